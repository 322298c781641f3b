// dscli's global settings (the `settings:` section): declared once here, with their
// defaults, read through settingNumber (adapters/setting-reader.ts), listed by
// config/settings-catalogue.ts.
import { settingNumber } from '../adapters/setting-reader.js';
import type { SettingSpec } from '../adapters/types.js';
import type { Db } from '../store/db.js';
import { DSCLI_DEFAULTS as D } from './defaults.js';

export const DSCLI_SETTINGS: readonly SettingSpec[] = [
  { key: 'dscli.confirm_above', scope: 'global', type: 'integer', min: 0, default: D.confirmAbove, description: 'power changes and clearSel on more servers need --yes (or an answer on a terminal)' },
  { key: 'dscli.fanout', scope: 'global', type: 'integer', min: 1, max: D.fanoutMax, default: D.fanout, description: 'controllers dscli talks to at the same time' },
  { key: 'dscli.timeout_s', scope: 'global', type: 'number', min: D.timeoutMinS, max: D.timeoutMaxS, default: D.timeoutS, description: 'deadline of one dscli operation on one controller (s)' },
  { key: 'dscli.retries', scope: 'global', type: 'integer', min: 0, max: D.retriesMax, default: D.retries, description: 'retransmissions of one request' },
  { key: 'dscli.firmware_wait_s', scope: 'global', type: 'number', min: 0, max: 86400, default: D.firmwareWaitS, description: 'how long updateFirmware follows the update task (s; wait= overrides)' },
  { key: 'dscli.ssh_wait_s', scope: 'global', type: 'number', min: 0, max: 3600, default: D.sshWaitS, description: 'how long shutdownOs via=ssh reads the power state for off after the shutdown command (s; wait= overrides)' },
];

/** A dscli setting (dscli.fanout, …), read against its declaration. */
export const dscliNumber = (db: Db, key: string): number => settingNumber(db, DSCLI_SETTINGS, key);
