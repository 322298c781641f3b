// kanri sim …: failure injection and delays for the sim driver, so that every
// failure path of an action sequence can be exercised on demand.
import { EXIT } from './exit-codes.js';
import { withStore } from '../open-store.js';
import { type Fault, SIM_OPERATIONS, type SimOperation, clearFaults, injectFault, listFaults, setDelay, simSettings } from '../adapters/sim/state.js';
import { type Column, listingMode, renderListing } from '../cli/listing.js';
import { complain } from '../cli/messages.js';
import { machineNotFound } from '../engine/planners/targets.js';
import { machineByName } from '../engine/select.js';

function checkOperation(op: string): op is SimOperation {
  if ((SIM_OPERATIONS as readonly string[]).includes(op)) return true;
  complain('kanri', `unknown sim operation '${op}' (known: ${SIM_OPERATIONS.join(', ')})`);
  return false;
}

export function simFail(dbPath: string, machine: string, operation: string, opts: { times?: string; message?: string }): number {
  if (!checkOperation(operation)) return EXIT.USAGE;
  const times = opts.times === undefined ? null : Number(opts.times);
  if (times !== null && (!Number.isInteger(times) || times < 1)) {
    complain('kanri', `--times needs an integer of 1 or more, not '${opts.times}'`);
    return EXIT.USAGE;
  }
  return withStore(dbPath, (db) => {
    const m = machine === '*' ? undefined : machineByName(db, machine);
    if (machine !== '*' && !m) {
      complain('kanri', machineNotFound(db, machine));
      return EXIT.NOT_FOUND;
    }
    // Under the stored spelling, which the simulated driver is asked about.
    injectFault(db, m?.name ?? machine, operation, times, opts.message ?? '');
    return EXIT.OK;
  });
}

export function simClear(dbPath: string): number {
  return withStore(dbPath, (db) => {
    clearFaults(db);
    return EXIT.OK;
  });
}

export function simDelay(dbPath: string, ms: string, operation: string | undefined): number {
  if (!/^\d+$/.test(ms)) {
    complain('kanri', `the delay must be a whole number of milliseconds, not '${ms}'`);
    return EXIT.USAGE;
  }
  if (operation !== undefined && !checkOperation(operation)) return EXIT.USAGE;
  return withStore(dbPath, (db) => {
    const cleared = setDelay(db, Number(ms), operation);
    process.stdout.write(operation !== undefined ? `${operation}: ${ms} ms\n` : `every sim operation: ${ms} ms${cleared.length ? ` (their own delays removed: ${cleared.join(', ')})` : ''}\n`);
    return EXIT.OK;
  });
}

const SETTING_COLUMNS: Array<Column<{ key: string; value: string }>> = [
  { header: 'SETTING', key: 'key', value: (s) => s.key },
  { header: 'VALUE', key: 'value', value: (s) => s.value },
];

const FAULT_COLUMNS: Array<Column<Fault>> = [
  { header: 'FAULT ON', key: 'machine', value: (f) => f.machine },
  { header: 'OPERATION', key: 'operation', value: (f) => f.operation },
  { header: 'REMAINING', key: 'remaining', value: (f) => (f.remaining === null ? 'always' : f.remaining) },
  { header: 'MESSAGE', key: 'message', value: (f) => f.message },
];

export function simShow(dbPath: string, json = false): number {
  return withStore(dbPath, (db) => {
    const settings = simSettings(db);
    const faults = listFaults(db);
    if (json) {
      process.stdout.write(JSON.stringify({ settings: Object.fromEntries(settings.map((s) => [s.key, s.value])), faults }) + '\n');
      return EXIT.OK;
    }
    const mode = listingMode();
    process.stdout.write(renderListing(settings, SETTING_COLUMNS, mode));
    if (mode.tty && settings.length && faults.length) process.stdout.write('\n');
    process.stdout.write(renderListing(faults, FAULT_COLUMNS, mode));
    return EXIT.OK;
  });
}
