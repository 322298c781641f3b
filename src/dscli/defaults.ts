// The defaults and ranges of dscli's settings, written once. settings.ts declares the settings
// with them; help.ts prints them. A leaf module of literals, so that `dscli help` does not load
// the settings reader (and what it imports) at start-up to say what a default is.
export const DSCLI_DEFAULTS = {
  confirmAbove: 10,
  fanout: 64,
  fanoutMax: 1024,
  timeoutS: 5,
  timeoutMinS: 0.1,
  timeoutMaxS: 600,
  retries: 2,
  retriesMax: 5,
  firmwareWaitS: 1800,
  sshWaitS: 300,
} as const;
