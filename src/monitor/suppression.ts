// Fault event suppression (spec/events-and-policies.md §5): a rule that suppresses waits its
// policy's suppression time for the recovery of the fault before its actions run; when the
// recovery comes for the same machine in that time, nothing runs. The waiting chain is a
// row of monitor_chains (status waiting, wait_until), so a window survives a restart; the
// recovery that ends it is a category of catalogue.RECOVERY_OF (chains.ts applies both).
import type { PolicyRef, RuleRef } from './policy.js';

/** Seconds a chain of this rule waits before it runs (0: it runs at once). */
export function suppressionWindow(policy: PolicyRef, rule: RuleRef): number {
  return rule.suppress ? policy.suppressionSeconds : 0;
}
