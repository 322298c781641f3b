// Byte-exact layouts of pvmutl's listings (spec/pvmutl.md §4, spec/decisions.md
// "Output layout"). Banner widths are literal and do not follow the title length.
import { formatJobId } from '../engine/plan.js';

const line = (s: string): string => s + '\n';
const banner = (width: number, title: string): string => line('='.repeat(width)) + line(title) + line('='.repeat(width));

export interface TreeLine { depth: number; name: string }

export function formatGroupList(tree: TreeLine[]): string {
  return banner(16, 'ServerGroup List') + tree.map((t) => line(' '.repeat(5 * t.depth) + t.name)).join('');
}

export function formatServerList(groupAsGiven: string, active: string[], pool: string[]): string {
  return (
    banner(31, `Server List (Group = ${groupAsGiven})`) +
    active.map(line).join('') +
    line('') +
    banner(11, 'Pool') +
    pool.map(line).join('')
  );
}

export function formatSoftList(groupAsGiven: string, software: string[]): string {
  return banner(36, `Soft List (Group = ${groupAsGiven})`) + software.map(line).join('');
}

/** `<name> : <policy>`; an object without a policy keeps the separator (seed 004 l. 5460). */
export function formatPolicyLine(name: string, policy: string | null | undefined): string {
  return line(`${name} : ${policy ?? ''}`);
}

export function formatCancelList(jobIds: number[]): string {
  return banner(40, 'ActionSequence List') + jobIds.map((id) => line(formatJobId(id))).join('');
}

