/**
 * MongoDB connection strings: the parts we may print (scheme, hosts, database) and the parts we never may
 * (user name, password, options that can carry secrets). Parsing is deliberately strict: a string we cannot
 * split with certainty is rejected without echoing it, because a malformed URI may have its password in an
 * unexpected place (the driver's own parse errors quote fragments of it).
 */

export interface MongoUriParts {
  scheme: "mongodb" | "mongodb+srv";
  /** "host[:port]" entries, as written (a replica set lists several). */
  hosts: string[];
  /** The database named in the path, or null when the path is empty. */
  database: string | null;
  /** Decoded user name and password when the URI carries credentials (only for scrubbing messages). */
  username: string | null;
  password: string | null;
}

export class MongoUriError extends Error {
  constructor(detail: string) {
    super(
      `Invalid MONGODB_URI: ${detail} (expected mongodb://[user:password@]host[:port][,host[:port]...][/database][?options] or mongodb+srv://...)`,
    );
    this.name = "MongoUriError";
  }
}

// userinfo and hosts may not contain '@', '/' or '?' unescaped (RFC 3986 and the MongoDB URI spec require
// percent-encoding them), so these classes split the string unambiguously.
const URI_PATTERN = /^(mongodb(?:\+srv)?):\/\/(?:([^@/?#]*)@)?([^@/?#]+)(?:\/([^?#]*))?(?:\?([^#]*))?$/;
const HOST_PATTERN = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%-]+)(?::\d{1,5})?$/;

export function parseMongoUri(uri: string): MongoUriParts {
  if (typeof uri !== "string" || uri.trim() === "") throw new MongoUriError("it is empty");
  const match = URI_PATTERN.exec(uri.trim());
  if (match === null) {
    throw new MongoUriError(
      "it could not be split into scheme, credentials, hosts and database; percent-encode '@', ':', '/' and '?' in the user name and password",
    );
  }
  const [, scheme, userinfo, hostList, path] = match;
  const hosts = hostList.split(",");
  if (hosts.some((host) => !HOST_PATTERN.test(host))) {
    throw new MongoUriError("a host in the host list is empty or has characters a host name cannot have");
  }
  if (scheme === "mongodb+srv" && (hosts.length !== 1 || hosts[0].includes(":"))) {
    throw new MongoUriError("mongodb+srv takes exactly one host name and no port");
  }
  let username: string | null = null;
  let password: string | null = null;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(":");
    try {
      username = decodeURIComponent(colon === -1 ? userinfo : userinfo.slice(0, colon));
      password = colon === -1 ? null : decodeURIComponent(userinfo.slice(colon + 1));
    } catch {
      throw new MongoUriError("the credentials have a malformed percent-encoding");
    }
  }
  // A database name cannot hold '/' or '@': seeing one means the split went wrong, most likely because of an
  // unencoded '/' in the password ("user:12/34@host"), which would otherwise show up as host and database.
  if (path !== undefined && /[/@]/.test(path)) {
    throw new MongoUriError("the part after the hosts is not a database name; percent-encode '/' and '@' in the password");
  }
  let database: string | null = null;
  if (path !== undefined && path !== "") {
    try {
      database = decodeURIComponent(path);
    } catch {
      throw new MongoUriError("the database name has a malformed percent-encoding");
    }
  }
  return { scheme: scheme as MongoUriParts["scheme"], hosts, database, username, password };
}

/** "mongodb://host1:27017,host2:27017/provena": what start-up logs and error messages may show. */
export function redactedMongoUri(parts: MongoUriParts, database: string): string {
  return `${parts.scheme}://${parts.hosts.join(",")}/${encodeURIComponent(database)}`;
}

/**
 * Removes the credentials from a message (driver errors can quote them), in decoded and percent-encoded form.
 * "user:password" is always scrubbed; the password alone when it has 4 characters or more, and the user name
 * alone from 4 characters (it is not a secret, but need not be repeated): shorter strings occur inside
 * ordinary words ("p" in "_tcp"), and scrubbing them would garble the message without protecting anything.
 */
export function scrubCredentials(message: string, parts: Pick<MongoUriParts, "username" | "password">): string {
  const secrets: string[] = [];
  if (parts.username !== null && parts.password !== null) secrets.push(`${parts.username}:${parts.password}`);
  if (parts.password !== null && parts.password.length >= 4) secrets.push(parts.password);
  if (parts.username !== null && parts.username.length >= 4) secrets.push(parts.username);
  let scrubbed = message;
  for (const secret of secrets) {
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      scrubbed = scrubbed.split(form).join("***");
    }
  }
  return scrubbed;
}
