// Debian's Chromium, run as root on a machine whose only network is the package
// registries: the command-line flags every headless run here needs (the e2e suite and the
// widget benchmark add their own). Without the last four it floods the closed network.
export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
