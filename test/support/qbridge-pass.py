#!/usr/bin/python3
# A pass_persist backing of the IEEE 802.1Q Q-BRIDGE-MIB tables (RFC 4363) for snmpd in
# the snmp driver's tests: dot1qVlanStaticTable (name, egress, forbidden, untagged,
# row status) and dot1qPortVlanTable's dot1qPvid, kept in a JSON file so that it
# survives a restart of snmpd. A test can make SETs of chosen objects fail
# ("fail_set": [oid, ...] in the file), to see what a half-applied SET leaves.
# Protocol: snmpd(8)/snmpd.conf(5), pass_persist.
import json
import os
import sys

STATE = sys.argv[1]
STATIC = (1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 3, 1)
PVID = (1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 5, 1, 1)


def load():
    with open(STATE) as f:
        return json.load(f)


def save(s):
    tmp = STATE + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(s, f)
    os.replace(tmp, STATE)


def objects(s):
    """Every (oid tuple, type, value) the tables hold, in OID order."""
    out = []
    for vid, v in s['vlans'].items():
        vid = int(vid)
        out.append((STATIC + (1, vid), 'string', v['name']))
        out.append((STATIC + (2, vid), 'octet', v['egress']))
        out.append((STATIC + (3, vid), 'octet', '00' * (len(v['egress']) // 2)))
        out.append((STATIC + (4, vid), 'octet', v['untagged']))
        out.append((STATIC + (5, vid), 'integer', 1))
    for port, pvid in s['pvid'].items():
        out.append((PVID + (int(port),), 'gauge', pvid))
    return sorted(out)


def oid_of(text):
    return tuple(int(x) for x in text.strip().strip('.').split('.'))


def show(o, typ, val):
    text = '.' + '.'.join(map(str, o))
    if typ == 'octet':
        val = ' '.join(val[i:i + 2] for i in range(0, len(val), 2)) or '""'
    print(text)
    print(typ)
    print(val)


def octets(value):
    """The bytes of a SET value as snmpd writes it: octet "xx xx" (hex) or string "text"."""
    typ, _, rest = value.partition(' ')
    rest = rest.strip()
    if rest.startswith('"') and rest.endswith('"'):
        rest = rest[1:-1]
    if typ == 'octet':
        return bytes.fromhex(rest.replace(' ', ''))
    if typ == 'string':
        return rest.encode('latin-1')
    return None


def set_value(s, o, value):
    if ('.' + '.'.join(map(str, o))) in s.get('fail_set', []):
        return 'inconsistent-value'
    typ, _, rest = value.partition(' ')
    if o[:len(STATIC)] == STATIC and len(o) == len(STATIC) + 2:
        col, vid = o[-2], str(o[-1])
        if vid not in s['vlans']:
            return 'no-creation'
        if col == 1:
            b = octets(value)
            if b is None:
                return 'wrong-type'
            s['vlans'][vid]['name'] = b.decode('utf-8', 'replace')
            return 'DONE'
        if col in (2, 4):
            b = octets(value)
            if b is None:
                return 'wrong-type'
            s['vlans'][vid]['egress' if col == 2 else 'untagged'] = b.hex()
            return 'DONE'
        return 'not-writable'
    if o[:len(PVID)] == PVID and len(o) == len(PVID) + 1:
        if typ not in ('gauge', 'integer', 'unsigned'):
            return 'wrong-type'
        n = int(rest.strip())
        if str(n) not in s['vlans']:
            return 'inconsistent-value'
        s['pvid'][str(o[-1])] = n
        return 'DONE'
    return 'not-writable'


def main():
    while True:
        line = sys.stdin.readline()
        if not line:
            return
        cmd = line.strip()
        if cmd == 'PING':
            print('PONG')
        elif cmd in ('get', 'getnext'):
            o = oid_of(sys.stdin.readline())
            objs = objects(load())
            hit = next((x for x in objs if (x[0] == o if cmd == 'get' else x[0] > o)), None)
            if hit:
                show(*hit)
            else:
                print('NONE')
        elif cmd == 'set':
            o = oid_of(sys.stdin.readline())
            value = sys.stdin.readline().rstrip('\n')
            s = load()
            answer = set_value(s, o, value)
            if answer == 'DONE':
                save(s)
            print(answer)
        sys.stdout.flush()


main()
