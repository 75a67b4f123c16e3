/** `uri` with its database path replaced by `database` (hosts, credentials and options kept). */
export function withDatabase(uri: string, database: string): string {
  const queryAt = uri.indexOf("?");
  const main = queryAt === -1 ? uri : uri.slice(0, queryAt);
  const query = queryAt === -1 ? "" : uri.slice(queryAt);
  const hostsStart = main.indexOf("://") + 3;
  const pathAt = main.indexOf("/", hostsStart);
  const authority = pathAt === -1 ? main : main.slice(0, pathAt);
  return `${authority}/${database}${query}`;
}
