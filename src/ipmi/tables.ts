// Names from the IPMI 2.0 specification tables, shared by SDR, SEL and PET decoding.

// Table 42-3, sensor type codes.
export const SENSOR_TYPES: Record<number, string> = {
  0x01: 'Temperature', 0x02: 'Voltage', 0x03: 'Current', 0x04: 'Fan', 0x05: 'Physical Security',
  0x06: 'Platform Security', 0x07: 'Processor', 0x08: 'Power Supply', 0x09: 'Power Unit',
  0x0a: 'Cooling Device', 0x0b: 'Other Units-based Sensor', 0x0c: 'Memory', 0x0d: 'Drive Slot',
  0x0e: 'POST Memory Resize', 0x0f: 'System Firmware Progress', 0x10: 'Event Logging Disabled',
  0x11: 'Watchdog 1', 0x12: 'System Event', 0x13: 'Critical Interrupt', 0x14: 'Button / Switch',
  0x15: 'Module / Board', 0x16: 'Microcontroller / Coprocessor', 0x17: 'Add-in Card', 0x18: 'Chassis',
  0x19: 'Chip Set', 0x1a: 'Other FRU', 0x1b: 'Cable / Interconnect', 0x1c: 'Terminator',
  0x1d: 'System Boot / Restart Initiated', 0x1e: 'Boot Error', 0x1f: 'Base OS Boot / Installation Status',
  0x20: 'OS Stop / Shutdown', 0x21: 'Slot / Connector', 0x22: 'System ACPI Power State', 0x23: 'Watchdog 2',
  0x24: 'Platform Alert', 0x25: 'Entity Presence', 0x26: 'Monitor ASIC / IC', 0x27: 'LAN',
  0x28: 'Management Subsystem Health', 0x29: 'Battery', 0x2a: 'Session Audit', 0x2b: 'Version Change',
  0x2c: 'FRU State',
};

export function sensorTypeName(t: number): string {
  return SENSOR_TYPES[t] ?? (t >= 0xc0 ? `OEM sensor type 0x${t.toString(16)}` : `sensor type 0x${t.toString(16)}`);
}

// Table 43-15, sensor unit type codes.
const UNITS = [
  'unspecified', 'degrees C', 'degrees F', 'degrees K', 'Volts', 'Amps', 'Watts', 'Joules', 'Coulombs', 'VA',
  'Nits', 'lumen', 'lux', 'Candela', 'kPa', 'PSI', 'Newton', 'CFM', 'RPM', 'Hz', 'microsecond', 'millisecond',
  'second', 'minute', 'hour', 'day', 'week', 'mil', 'inches', 'feet', 'cu in', 'cu feet', 'mm', 'cm', 'm',
  'cu cm', 'cu m', 'liters', 'fluid ounce', 'radians', 'steradians', 'revolutions', 'cycles', 'gravities',
  'ounce', 'pound', 'ft-lb', 'oz-in', 'gauss', 'gilberts', 'henry', 'millihenry', 'farad', 'microfarad', 'ohms',
  'siemens', 'mole', 'becquerel', 'PPM', 'reserved', 'Decibels', 'DbA', 'DbC', 'gray', 'sievert',
  'color temp deg K', 'bit', 'kilobit', 'megabit', 'gigabit', 'byte', 'kilobyte', 'megabyte', 'gigabyte', 'word',
  'dword', 'qword', 'line', 'hit', 'miss', 'retry', 'reset', 'overflow', 'underrun', 'collision', 'packets',
  'messages', 'characters', 'error', 'correctable error', 'uncorrectable error', 'fatal error', 'grams',
];

export function unitName(code: number): string {
  return UNITS[code] ?? `unit ${code}`;
}

// Table 42-2, threshold event offsets (event/reading type 01h).
export const THRESHOLD_EVENTS = [
  'Lower Non-critical going low', 'Lower Non-critical going high', 'Lower Critical going low',
  'Lower Critical going high', 'Lower Non-recoverable going low', 'Lower Non-recoverable going high',
  'Upper Non-critical going low', 'Upper Non-critical going high', 'Upper Critical going low',
  'Upper Critical going high', 'Upper Non-recoverable going low', 'Upper Non-recoverable going high',
];

// Table 42-2, generic discrete event offsets for the reading types used most.
const GENERIC: Record<number, string[]> = {
  0x02: ['Transition to Idle', 'Transition to Active', 'Transition to Busy'],
  0x03: ['State Deasserted', 'State Asserted'],
  0x04: ['Predictive Failure deasserted', 'Predictive Failure asserted'],
  0x05: ['Limit Not Exceeded', 'Limit Exceeded'],
  0x06: ['Performance Met', 'Performance Lags'],
  0x07: ['transition to OK', 'transition to Non-Critical from OK', 'transition to Critical from less severe',
    'transition to Non-recoverable from less severe', 'transition to Non-Critical from more severe',
    'transition to Critical from Non-recoverable', 'transition to Non-recoverable', 'Monitor', 'Informational'],
  0x08: ['Device Removed / Device Absent', 'Device Inserted / Device Present'],
  0x09: ['Device Disabled', 'Device Enabled'],
  0x0b: ['Fully Redundant', 'Redundancy Lost', 'Redundancy Degraded'],
};

// Table 42-3, sensor-specific offsets (event/reading type 6Fh) for common sensor types.
const SPECIFIC: Record<number, string[]> = {
  0x05: ['General Chassis intrusion', 'Drive Bay intrusion', 'I/O Card area intrusion', 'Processor area intrusion', 'LAN Leash Lost', 'Unauthorized dock', 'FAN area intrusion'],
  0x07: ['IERR', 'Thermal Trip', 'FRB1/BIST failure', 'FRB2/Hang in POST failure', 'FRB3/Processor startup failure', 'Configuration Error', 'SM BIOS Uncorrectable CPU-complex Error', 'Processor Presence detected', 'Processor disabled', 'Terminator Presence Detected', 'Processor Automatically Throttled', 'Machine Check Exception'],
  0x08: ['Presence detected', 'Power Supply Failure detected', 'Predictive Failure', 'Power Supply input lost (AC/DC)', 'Power Supply input lost or out-of-range', 'Power Supply input out-of-range, but present', 'Configuration error'],
  0x09: ['Power Off / Power Down', 'Power Cycle', '240VA Power Down', 'Interlock Power Down', 'AC lost', 'Soft Power Control Failure', 'Power Unit Failure detected', 'Predictive Failure'],
  0x0c: ['Correctable ECC', 'Uncorrectable ECC', 'Parity', 'Memory Scrub Failed', 'Memory Device Disabled', 'Correctable ECC logging limit reached', 'Presence detected', 'Configuration error', 'Spare', 'Memory Automatically Throttled', 'Critical Overtemperature'],
  0x0d: ['Drive Presence', 'Drive Fault', 'Predictive Failure', 'Hot Spare', 'Consistency Check In Progress', 'In Critical Array', 'In Failed Array', 'Rebuild/Remap in progress', 'Rebuild/Remap Aborted'],
  0x10: ['Correctable Memory Error Logging Disabled', 'Event Type Logging Disabled', 'Log Area Reset/Cleared', 'All Event Logging Disabled', 'SEL Full', 'SEL Almost Full'],
  0x12: ['System Reconfigured', 'OEM System Boot Event', 'Undetermined system hardware failure', 'Entry added to Auxiliary Log', 'PEF Action', 'Timestamp Clock Synch'],
  0x13: ['Front Panel NMI / Diagnostic Interrupt', 'Bus Timeout', 'I/O channel check NMI', 'Software NMI', 'PCI PERR', 'PCI SERR', 'EISA Fail Safe Timeout', 'Bus Correctable Error', 'Bus Uncorrectable Error', 'Fatal NMI', 'Bus Fatal Error', 'Bus Degraded'],
  0x14: ['Power Button pressed', 'Sleep Button pressed', 'Reset Button pressed', 'FRU latch open', 'FRU service request button'],
  0x1d: ['Initiated by power up', 'Initiated by hard reset', 'Initiated by warm reset', 'User requested PXE boot', 'Automatic boot to diagnostic', 'OS / run-time software initiated hard reset', 'OS / run-time software initiated warm reset', 'System Restart'],
  0x20: ['Critical stop during OS load / initialization', 'Run-time Critical Stop', 'OS Graceful Stop', 'OS Graceful Shutdown', 'Soft Shutdown initiated by PEF', 'Agent Not Responding'],
  0x22: ['S0/G0 working', 'S1 sleeping with system h/w & processor context maintained', 'S2 sleeping, processor context lost', 'S3 sleeping, processor & h/w context lost, memory retained', 'S4 non-volatile sleep / suspend-to-disk', 'S5/G2 soft-off', 'S4/S5 soft-off', 'G3/Mechanical Off', 'Sleeping in an S1, S2, or S3 states', 'G1 sleeping', 'S5 entered by override', 'Legacy ON state', 'Legacy OFF state'],
  0x23: ['Timer expired', 'Hard Reset', 'Power Down', 'Power Cycle', 'reserved', 'reserved', 'reserved', 'reserved', 'Timer interrupt'],
  0x25: ['Entity Present', 'Entity Absent', 'Entity Disabled'],
  0x29: ['Battery low', 'Battery failed', 'Battery presence detected'],
  0x2a: ['Session Activated', 'Session Deactivated', 'Invalid Username or Password', 'Invalid password disable'],
};

/** Text for an event offset given the event/reading type and sensor type. */
export function eventText(eventType: number, sensorType: number, offset: number): string {
  if (eventType === 0x01) return THRESHOLD_EVENTS[offset] ?? `threshold offset ${offset}`;
  if (eventType === 0x6f) return SPECIFIC[sensorType]?.[offset] ?? `sensor-specific offset ${offset}`;
  if (eventType >= 0x02 && eventType <= 0x0c) return GENERIC[eventType]?.[offset] ?? `generic offset ${offset}`;
  if (eventType >= 0x70 && eventType <= 0x7f) return `OEM event offset ${offset}`;
  return `event type 0x${eventType.toString(16)} offset ${offset}`;
}
