// The DNS settings' defaults, used by the settings table and by a server started without them.
export const DNS_DEFAULTS = {
  dnsDomain: 'dpns.',
  dnsTtl: 5,
  dnsQueriesPerSecond: 1000,
  dnsMaxTcpConnections: 256,
  dnsTcpIdleMs: 10_000,
} as const;
