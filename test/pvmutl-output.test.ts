// Byte-exact layouts of pvmutl's listings: the spec's own examples, rebuilt as
// data centres, must print exactly the spec's text (spec/pvmutl.md §4.10–4.12, §4.23).
import { describe, expect, it } from 'vitest';
import { fixtureStore, pvmutl } from './support/store.js';

const SPEC_GROUPS = `
kanri: 1
groups:
  - name: group1
    priority: 1
    type: physical
    models: [{ name: Model1_1, priority: 1 }, { name: Model1_2, priority: 2 }]
  - name: group2
    priority: 2
    type: physical
    models: [{ name: Model2_1, priority: 1 }, { name: Model2_2, priority: 2 }]
`;

const SPEC_SERVERS = `
kanri: 1
groups:
  - name: GroupName
    type: physical
    models: [{ name: m }]
    host_settings: [{ host: h1 }, { host: h2 }]
    pool: [Machine1, Machine2, Machine3]
  - name: Empty
    type: physical
    models: [{ name: m }]
machines:
  - { name: Machine1, kind: physical, active: { group: GroupName, model: m, host: h1 } }
  - { name: Machine2, kind: physical, active: { group: GroupName, model: m, host: h2 } }
  - { name: Machine3, kind: physical }
`;

const SPEC_POLICIES = `
kanri: 1
policies:
  - { name: policy1, description: 業務グループ用１ }
  - { name: policy2, description: 業務グループ用２ }
  - { name: policy3, description: システムグループ用 }
  - { name: policy1-1 }
  - { name: policy1-2 }
categories:
  - name: category1
    groups:
      - name: group1-1
        priority: 1
        type: physical
        policy: policy1
        models: [{ name: model1, priority: 1, policy: policy1-1 }, { name: model2, priority: 2, policy: policy1-2 }]
      - name: group1-2
        priority: 2
        type: physical
        policy: policy2
        models: [{ name: model1 }]
`;

describe('list group', () => {
  it('prints the spec example exactly', async () => {
    const r = await pvmutl(fixtureStore(SPEC_GROUPS), ['list', 'group']);
    expect(r).toEqual({
      code: 0, err: '',
      out: '================\nServerGroup List\n================\ngroup1\n     Model1_1\n     Model1_2\ngroup2\n     Model2_1\n     Model2_2\n',
    });
  });

  it('indents categories, nested categories, groups and models by 5 spaces a level, by priority then name', async () => {
    const r = await pvmutl(fixtureStore(), ['LIST', 'GROUP']);
    expect(r.code).toBe(0);
    expect(r.out).toBe([
      '================', 'ServerGroup List', '================',
      'Shop', '     Web', '          R120h', '          R110j', '     AP', '          R120h', '     Batch', '          Nightly', '               R110j',
      'Infra', '     VMHosts', '          ESXi-R120h', '     Desktops', '          Win2022',
      'Lab', '     Any', '',
    ].join('\n'));
  });

  it('prints only the banner for an empty store', async () => {
    const r = await pvmutl(fixtureStore('kanri: 1\n'), ['list', 'group']);
    expect(r.out).toBe('================\nServerGroup List\n================\n');
  });
});

describe('list server', () => {
  it('prints the spec example exactly', async () => {
    const r = await pvmutl(fixtureStore(SPEC_SERVERS), ['list', 'server', 'GroupName']);
    expect(r).toEqual({
      code: 0, err: '',
      out: '===============================\nServer List (Group = GroupName)\n===============================\nMachine1\nMachine2\n\n===========\nPool\n===========\nMachine3\n',
    });
  });

  it('keeps the banner width literal and shows the name as given', async () => {
    const r = await pvmutl(fixtureStore(), ['list', 'server', 'shop¥web']);
    expect(r.out).toBe([
      '===============================', 'Server List (Group = shop¥web)', '===============================',
      'px-r110-01', 'px-r120-01', 'px-r120-02', '',
      '===========', 'Pool', '===========',
      'px-r120-03', 'px-r120-04', 'px-spare-01', '',
    ].join('\n'));
  });

  it('prints no machine lines for an empty group', async () => {
    const r = await pvmutl(fixtureStore(SPEC_SERVERS), ['list', 'server', 'Empty']);
    expect(r.out).toBe('===============================\nServer List (Group = Empty)\n===============================\n\n===========\nPool\n===========\n');
  });

  it('narrows to one model when the path ends at a model', async () => {
    const r = await pvmutl(fixtureStore(), ['list', 'server', 'Shop\\Web\\R110j']);
    expect(r.out).toBe('===============================\nServer List (Group = Shop\\Web\\R110j)\n===============================\npx-r110-01\n\n===========\nPool\n===========\n');
  });

  it('finds a group filed under a category by its bare name', async () => {
    const r = await pvmutl(fixtureStore(), ['list', 'server', 'Nightly']);
    expect(r.out).toContain('px-batch-01\n\n===========\nPool\n===========\npx-batch-02\npx-batch-03\n');
  });
});

describe('list soft', () => {
  it('prints the 36-character banner and the group software, activation then standby', async () => {
    const r = await pvmutl(fixtureStore(), ['list', 'soft', 'Shop/Web']);
    expect(r).toEqual({
      code: 0, err: '',
      out: '====================================\nSoft List (Group = Shop/Web)\n====================================\nWeb-Apache\nWeb-Content\nLogs-Collect\n',
    });
  });

  it('lists a model’s own software for a model path', async () => {
    const r = await pvmutl(fixtureStore(), ['list', 'soft', 'Shop/Web/R120h']);
    expect(r.out).toBe('====================================\nSoft List (Group = Shop/Web/R120h)\n====================================\nOS-RHEL9-Restore\nNIC-Driver-R120h\nDisk-Wipe\n');
  });
});

describe('policy show', () => {
  it('prints the spec example for a category, with an empty policy after the separator', async () => {
    const r = await pvmutl(fixtureStore(SPEC_POLICIES), ['policy', 'show', 'category1']);
    expect(r).toEqual({
      code: 0, err: '',
      out: 'group1-1 : policy1\nmodel1 : policy1-1\nmodel2 : policy1-2\ngroup1-2 : policy2\nmodel1 : \n',
    });
  });

  it('prints the spec example for a group', async () => {
    const r = await pvmutl(fixtureStore(SPEC_POLICIES), ['policy', 'show', 'group1-1']);
    expect(r.out).toBe('group1-1 : policy1\nmodel1 : policy1-1\nmodel2 : policy1-2\n');
  });

  it('prints every policy with its description when no group is given', async () => {
    const r = await pvmutl(fixtureStore(SPEC_POLICIES), ['policy', 'show']);
    expect(r.out).toBe('policy1 : 業務グループ用１\npolicy1-1 : \npolicy1-2 : \npolicy2 : 業務グループ用２\npolicy3 : システムグループ用\n');
  });
});
