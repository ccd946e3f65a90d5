// The DNS settings' defaults, used by the settings table and by a server started without them.
export const DNS_DEFAULTS = {
  dnsDomain: 'dpns.',
  dnsTtl: 5,
  dnsQueriesPerSecond: 1000,
  // About a third of what one core answers (docs/BENCHMARKS.md, DNS SRV over UDP): a flood from
  // forged sources cannot take the whole server.
  dnsGlobalQueriesPerSecond: 10_000,
  dnsMaxUdpInFlight: 1024,
  dnsMaxLaunchesInFlight: 64,
  dnsMaxTcpConnections: 256,
  dnsTcpIdleMs: 10_000,
} as const;
