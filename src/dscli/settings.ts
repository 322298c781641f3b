// dscli's global settings (the `settings:` section): declared once here, with their
// defaults, read through settingNumber (adapters/setting-reader.ts), listed by
// config/settings-catalogue.ts.
import { settingNumber } from '../adapters/setting-reader.js';
import type { SettingSpec } from '../adapters/types.js';
import type { Db } from '../store/db.js';

export const DSCLI_SETTINGS: readonly SettingSpec[] = [
  { key: 'dscli.confirm_above', scope: 'global', type: 'integer', min: 0, default: 10, description: 'power changes and clearSel on more servers need --yes (or an answer on a terminal)' },
  { key: 'dscli.fanout', scope: 'global', type: 'integer', min: 1, max: 1024, default: 64, description: 'controllers dscli talks to at the same time' },
  { key: 'dscli.timeout_s', scope: 'global', type: 'number', min: 0.1, max: 600, default: 5, description: 'deadline of one dscli operation on one controller (s)' },
  { key: 'dscli.retries', scope: 'global', type: 'integer', min: 0, max: 5, default: 2, description: 'retransmissions of one request' },
  { key: 'dscli.firmware_wait_s', scope: 'global', type: 'number', min: 0, max: 86400, default: 1800, description: 'how long updateFirmware follows the update task (s; wait= overrides)' },
  { key: 'dscli.ssh_wait_s', scope: 'global', type: 'number', min: 0, max: 3600, default: 300, description: 'how long shutdownOs via=ssh reads the power state for off after the shutdown command (s; wait= overrides)' },
];

/** A dscli setting (dscli.fanout, …), read against its declaration. */
export const dscliNumber = (db: Db, key: string): number => settingNumber(db, DSCLI_SETTINGS, key);
