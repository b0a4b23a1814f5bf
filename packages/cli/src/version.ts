export const TSDNS_VERSION = '0.1.0';
