import { expect } from "chai";
import { availableParallelism } from "node:os";
import { ConfigError, loadConfig, redactConfig, redactUrl } from "../../backend/config.ts";

const KEY = "0x" + "ab".repeat(32);

function configErrorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("loadConfig accepted an invalid environment");
}

describe("loadConfig", function () {
  describe("when the environment is empty", function () {
    it("test_loadConfig_defaults", function () {
      const config = loadConfig({});
      expect(config).to.deep.include({
        logLevel: "info",
        host: "127.0.0.1",
        port: 3000,
        publicBaseUrl: "http://127.0.0.1:3000",
        publicRpcUrl: "http://127.0.0.1:3000/rpc",
        rpcUrl: null,
        mongodbUri: null,
        sqlitePath: "data/provena.db",
        embeddedChain: "anvil",
        embeddedChainDir: "data/chain",
        deploymentFile: null,
        confirmations: 0,
        indexerBlockRange: 2000,
        indexerPollMs: 1000,
        readyMaxLagBlocks: 10,
        leaseTtlMs: 15000,
        relayerKey: null,
        keeperIntervalMs: 5000,
        anchorIntervalMs: 600000,
        writeRateLimitPerMinute: 60,
        jsonBodyLimit: "100kb",
        relayBodyLimit: "64kb",
        uploadBodyLimit: "8mb",
        documentBodyLimit: "10mb",
        jsonMaxDepth: 32,
        rpcTimeoutMs: 5000,
        trustProxy: false,
      });
      expect(config.instanceId).to.match(/^.+:\d+:[0-9a-f]{6}$/);
    });

    it("test_loadConfig_trustProxy_hopsAddressesOrNone", function () {
      expect(loadConfig({ TRUST_PROXY: "false" }).trustProxy).to.equal(false);
      expect(loadConfig({ TRUST_PROXY: "1" }).trustProxy).to.equal(1);
      expect(loadConfig({ TRUST_PROXY: "loopback, 10.0.0.0/8,::1" }).trustProxy).to.deep.equal(["loopback", "10.0.0.0/8", "::1"]);
      // "true" would let every client name itself in X-Forwarded-For, defeating per-client limits: refused.
      for (const bad of ["true", "*", "proxy.example.com", "10.0.0.0/8; rm", "123"]) {
        const error = configErrorOf({ TRUST_PROXY: bad });
        expect(error.message).to.include("TRUST_PROXY").and.to.include("number of proxy hops");
      }
    });

    it("test_loadConfig_instanceIdsDifferPerLoad", function () {
      expect(loadConfig({}).instanceId).to.not.equal(loadConfig({}).instanceId);
    });
  });

  describe("when values are set", function () {
    it("test_loadConfig_parsesEveryField", function () {
      const config = loadConfig({
        LOG_LEVEL: "debug",
        HOST: "0.0.0.0",
        PORT: "8080",
        RPC_URL: "https://rpc.example.org",
        MONGODB_URI: "mongodb://db1:27017,db2:27017/provena?replicaSet=rs0",
        SQLITE_PATH: ":memory:",
        DEPLOYMENT_FILE: "/etc/provena/deployment.json",
        CONFIRMATIONS: "12",
        INDEXER_BLOCK_RANGE: "500",
        INDEXER_POLL_MS: "250",
        READY_MAX_LAG_BLOCKS: "15",
        LEASE_TTL_MS: "30000",
        INSTANCE_ID: "api-1",
        RELAYER_PRIVATE_KEY: KEY.slice(2),
        KEEPER_INTERVAL_MS: "1000",
        ANCHOR_INTERVAL_MS: "60000",
        WRITE_RATE_LIMIT_PER_MINUTE: "120",
        BODY_LIMIT: "2mb",
        RELAY_BODY_LIMIT: "32kb",
        UPLOAD_BODY_LIMIT: "16mb",
        DOCUMENT_BODY_LIMIT: "20mb",
        JSON_MAX_DEPTH: "8",
        RPC_TIMEOUT_MS: "3000",
      });
      expect(config).to.deep.include({
        logLevel: "debug",
        host: "0.0.0.0",
        port: 8080,
        publicBaseUrl: "http://localhost:8080",
        publicRpcUrl: "http://localhost:8080/rpc",
        rpcUrl: "https://rpc.example.org",
        mongodbUri: "mongodb://db1:27017,db2:27017/provena?replicaSet=rs0",
        sqlitePath: ":memory:",
        deploymentFile: "/etc/provena/deployment.json",
        confirmations: 12,
        indexerBlockRange: 500,
        indexerPollMs: 250,
        readyMaxLagBlocks: 15,
        leaseTtlMs: 30000,
        instanceId: "api-1",
        keeperIntervalMs: 1000,
        anchorIntervalMs: 60000,
        writeRateLimitPerMinute: 120,
        jsonBodyLimit: "2mb",
        relayBodyLimit: "32kb",
        uploadBodyLimit: "16mb",
        documentBodyLimit: "20mb",
        jsonMaxDepth: 8,
        rpcTimeoutMs: 3000,
      });
      expect(config.relayerKey).to.deep.equal({ kind: "privateKey", privateKey: KEY });
    });

    it("test_loadConfig_confirmationsDefaultToFiveOnARealNetwork", function () {
      expect(loadConfig({ RPC_URL: "http://127.0.0.1:8545" }).confirmations).to.equal(5);
    });

    it("test_loadConfig_readyLagDefaultsToConfirmationsPlusTen", function () {
      // The mirror trails the head by CONFIRMATIONS when caught up: the threshold must leave room for that.
      expect(loadConfig({ RPC_URL: "http://127.0.0.1:8545" }).readyMaxLagBlocks).to.equal(15);
      expect(loadConfig({ CONFIRMATIONS: "64" }).readyMaxLagBlocks).to.equal(74);
    });

    it("test_loadConfig_readyLagBelowConfirmations_isRejected", function () {
      const error = configErrorOf({ CONFIRMATIONS: "12", READY_MAX_LAG_BLOCKS: "3" });
      expect(error.issues.map((issue) => issue.variable)).to.deep.equal(["READY_MAX_LAG_BLOCKS"]);
      expect(error.issues[0]!.message).to.match(/must be at least CONFIRMATIONS \(12\)/);
      expect(() => loadConfig({ RPC_URL: "http://127.0.0.1:8545", READY_MAX_LAG_BLOCKS: "4" })).to.throw(
        ConfigError,
        /CONFIRMATIONS \(5\)/,
      );
      expect(loadConfig({ CONFIRMATIONS: "12", READY_MAX_LAG_BLOCKS: "12" }).readyMaxLagBlocks).to.equal(12);
    });

    it("test_loadConfig_publicUrlsDerivedAndTrimmed", function () {
      const config = loadConfig({ PUBLIC_BASE_URL: "https://provena.example.com/" });
      expect(config.publicBaseUrl).to.equal("https://provena.example.com");
      expect(config.publicRpcUrl).to.equal("https://provena.example.com/rpc");
      expect(loadConfig({ PUBLIC_RPC_URL: "https://rpc.example.com/" }).publicRpcUrl).to.equal("https://rpc.example.com");
    });

    it("test_loadConfig_logRequests_offByDefault_trueOrFalseOnly", function () {
      expect(loadConfig({}).logRequests).to.equal(false);
      expect(loadConfig({ LOG_REQUESTS: "true" }).logRequests).to.equal(true);
      expect(loadConfig({ LOG_REQUESTS: "false" }).logRequests).to.equal(false);
      const error = configErrorOf({ LOG_REQUESTS: "yes" });
      expect(error.issues.map((issue) => issue.variable)).to.deep.equal(["LOG_REQUESTS"]);
      expect(error.message).to.include("LOG_REQUESTS: must be true or false");
    });

    it("test_loadConfig_emptyValuesMeanUnset", function () {
      expect(loadConfig({ PORT: "", LOG_LEVEL: "" })).to.deep.include({ port: 3000, logLevel: "info" });
    });

    it("test_loadConfig_relayBodyLimitDefaultsToTheSmallerOf64kbAndBodyLimit", function () {
      expect(loadConfig({ BODY_LIMIT: "2kb" }).relayBodyLimit).to.equal("2kb");
      expect(loadConfig({ BODY_LIMIT: "1mb" }).relayBodyLimit).to.equal("64kb");
      expect(loadConfig({ BODY_LIMIT: "1mb", RELAY_BODY_LIMIT: "512kb" }).relayBodyLimit).to.equal("512kb");
    });

    it("test_loadConfig_bodyLimitsAreTrimmed", function () {
      const config = loadConfig({ BODY_LIMIT: " 1mb ", UPLOAD_BODY_LIMIT: "4 mb" });
      expect(config).to.deep.include({ jsonBodyLimit: "1mb", uploadBodyLimit: "4 mb" });
    });

    it("test_loadConfig_keystore", function () {
      const config = loadConfig({ RELAYER_KEYSTORE: "keys/relayer.json", RELAYER_KEYSTORE_PASSWORD: "s3cret" });
      expect(config.relayerKey).to.deep.equal({ kind: "keystore", path: "keys/relayer.json", password: "s3cret" });
    });
  });

  describe("when values are invalid", function () {
    it("test_loadConfig_apiWorkersAndPassportCache_defaultsParsedAndBadValuesOneLineEach", function () {
      const defaults = loadConfig({});
      expect(defaults.apiWorkers).to.equal(Math.max(1, availableParallelism()));
      expect(defaults.passportCacheMb).to.equal(64);
      expect(loadConfig({ API_WORKERS: "1", PASSPORT_CACHE_MB: "0" })).to.deep.include({ apiWorkers: 1, passportCacheMb: 0 });
      const error = configErrorOf({ API_WORKERS: "0", PASSPORT_CACHE_MB: "-5" });
      expect(error.message.split("\n").slice(1)).to.deep.equal([
        '  PASSPORT_CACHE_MB: must be an integer 0-65536 (megabytes of rendered passports per API process; 0 = off) (got "-5")',
        '  API_WORKERS: must be an integer 1-256 (processes serving the API) (got "0")',
      ]);
    });

    it("test_loadConfig_sqliteCacheMb_defaultsParsedAndZeroRefused", function () {
      expect(loadConfig({}).sqliteCacheMb).to.equal(16);
      expect(loadConfig({ SQLITE_CACHE_MB: "256" }).sqliteCacheMb).to.equal(256);
      expect(configErrorOf({ SQLITE_CACHE_MB: "0" }).message.split("\n").slice(1)).to.deep.equal([
        '  SQLITE_CACHE_MB: must be an integer 1-65536 (megabytes of page cache per SQLite connection) (got "0")',
      ]);
    });

    it("test_loadConfig_portNotANumber_oneClearLine", function () {
      const error = configErrorOf({ PORT: "abc" });
      expect(error.name).to.equal("ConfigError");
      expect(error.message).to.equal('Invalid configuration:\n  PORT: must be an integer 1-65535 (got "abc")');
    });

    it("test_loadConfig_listsEveryBadVariable", function () {
      const error = configErrorOf({
        PORT: "70000",
        LOG_LEVEL: "loud",
        CONFIRMATIONS: "-1",
        INDEXER_BLOCK_RANGE: "1.5",
        PUBLIC_BASE_URL: "provena.example.com",
        RPC_URL: "ftp://x",
        MONGODB_URI: "postgres://x",
        BODY_LIMIT: "lots",
        LEASE_TTL_MS: "10",
      });
      expect(error.issues.map((issue) => issue.variable)).to.have.members([
        "PORT",
        "LOG_LEVEL",
        "CONFIRMATIONS",
        "INDEXER_BLOCK_RANGE",
        "PUBLIC_BASE_URL",
        "RPC_URL",
        "MONGODB_URI",
        "BODY_LIMIT",
        "LEASE_TTL_MS",
      ]);
      expect(error.message.split("\n")).to.have.length(10);
      expect(error.message).to.include('LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")');
      expect(error.message).to.include('CONFIRMATIONS: must be an integer 0-10000 (blocks) (got "-1")');
    });

    it("test_loadConfig_embeddedChainUnknown_oneClearLine", function () {
      const error = configErrorOf({ EMBEDDED_CHAIN: "ganache" });
      expect(error.message).to.equal('Invalid configuration:\n  EMBEDDED_CHAIN: must be one of anvil, hardhat (got "ganache")');
      expect(loadConfig({ EMBEDDED_CHAIN: "hardhat", EMBEDDED_CHAIN_DIR: "/var/lib/provena/chain" })).to.deep.include({
        embeddedChain: "hardhat",
        embeddedChainDir: "/var/lib/provena/chain",
      });
    });

    it("test_loadConfig_bodyLimitsOutOfRange_oneClearLineEach", function () {
      const error = configErrorOf({ BODY_LIMIT: "0", RELAY_BODY_LIMIT: "64 kilobytes", UPLOAD_BODY_LIMIT: "2gb" });
      expect(error.issues.map((issue) => issue.variable)).to.deep.equal(["BODY_LIMIT", "RELAY_BODY_LIMIT", "UPLOAD_BODY_LIMIT"]);
      expect(error.message).to.include('BODY_LIMIT: must be a size from 1 byte to 1gb such as "1mb", "500kb" or a byte count (got "0")');
      expect(error.message).to.include(
        'UPLOAD_BODY_LIMIT: must be a size from 1 byte to 1gb such as "1mb", "500kb" or a byte count (got "2gb")',
      );
    });

    it("test_loadConfig_relayBodyLimitAboveBodyLimit_isRejected", function () {
      const error = configErrorOf({ BODY_LIMIT: "32kb", RELAY_BODY_LIMIT: "64kb" });
      expect(error.issues).to.deep.equal([
        { variable: "RELAY_BODY_LIMIT", message: 'must be at most BODY_LIMIT (32kb), the largest JSON body the app reads (got "64kb")' },
      ]);
      expect(configErrorOf({ RELAY_BODY_LIMIT: "200kb" }).message).to.include("must be at most BODY_LIMIT (100kb)");
      // A bad BODY_LIMIT is reported once, not again through the relay's limit.
      const badBoth = configErrorOf({ BODY_LIMIT: "lots", RELAY_BODY_LIMIT: "1mb" });
      expect(badBoth.issues.map((issue) => issue.variable)).to.deep.equal(["BODY_LIMIT"]);
    });

    it("test_loadConfig_neverEchoesSecrets", function () {
      const error = configErrorOf({
        RELAYER_PRIVATE_KEY: "0xnot-a-key-but-secret",
        MONGODB_URI: "mongo://user:hunter2@db",
      });
      expect(error.message).to.not.include("hunter2");
      expect(error.message).to.not.include("not-a-key-but-secret");
      expect(error.message).to.include("RELAYER_PRIVATE_KEY: must be a 32-byte hex private key");
      expect(error.message).to.include("(value hidden)");
    });

    it("test_loadConfig_keyAndKeystoreAreExclusive", function () {
      const error = configErrorOf({ RELAYER_PRIVATE_KEY: KEY, RELAYER_KEYSTORE: "k.json", RELAYER_KEYSTORE_PASSWORD: "p" });
      expect(error.message).to.include("set either RELAYER_PRIVATE_KEY or RELAYER_KEYSTORE, not both");
    });

    it("test_loadConfig_keystoreNeedsPassword", function () {
      expect(configErrorOf({ RELAYER_KEYSTORE: "k.json" }).message).to.include(
        "RELAYER_KEYSTORE_PASSWORD: is required when RELAYER_KEYSTORE is set",
      );
      expect(configErrorOf({ RELAYER_KEYSTORE_PASSWORD: "p" }).message).to.include(
        "RELAYER_KEYSTORE: is required when RELAYER_KEYSTORE_PASSWORD is set",
      );
    });
  });

  describe("redaction", function () {
    it("test_redactUrl_stripsCredentialsQueryAndKeys", function () {
      expect(redactUrl("mongodb://user:pw@db1,db2/provena?replicaSet=rs0")).to.equal("mongodb://***@db1,db2/provena?***");
      expect(redactUrl("https://eth-mainnet.g.alchemy.com/v2/abcdefghijklmnopqrstuvwxyz123456")).to.equal(
        "https://eth-mainnet.g.alchemy.com/v2/***",
      );
      expect(redactUrl("http://127.0.0.1:8545")).to.equal("http://127.0.0.1:8545");
    });

    it("test_redactConfig_hidesRelayerKey", function () {
      const logged = JSON.stringify(redactConfig(loadConfig({ RELAYER_PRIVATE_KEY: KEY })));
      expect(logged).to.not.include(KEY.slice(2));
    });
  });

  describe("MQTT", function () {
    it("test_loadConfig_mqtt_embeddedOnLoopback1883ByDefault_portZeroOff_urlExternal", function () {
      expect(loadConfig({}).mqtt).to.deep.equal({ kind: "embedded", host: "127.0.0.1", port: 1883 });
      expect(loadConfig({ MQTT_HOST: "0.0.0.0", MQTT_PORT: "8883" }).mqtt).to.deep.equal({ kind: "embedded", host: "0.0.0.0", port: 8883 });
      expect(loadConfig({ MQTT_PORT: "0" }).mqtt).to.deep.equal({ kind: "off" });
      expect(loadConfig({ MQTT_URL: "mqtts://emqx.example.com:8883" }).mqtt).to.deep.equal({
        kind: "external",
        url: "mqtts://emqx.example.com:8883",
      });
    });

    it("test_loadConfig_mqtt_badValues_oneLineEach_urlHidden", function () {
      const error = configErrorOf({ MQTT_PORT: "70000", MQTT_HOST: "bad host", MQTT_URL: "http://user:secret@broker" });
      expect(error.issues.map((issue) => issue.variable)).to.deep.equal(["MQTT_HOST", "MQTT_PORT", "MQTT_URL"]);
      expect(error.message).to.not.include("secret");
    });

    it("test_loadConfig_mqtt_urlAndEmbeddedPort_areExclusive", function () {
      expect(configErrorOf({ MQTT_URL: "mqtt://broker", MQTT_PORT: "1884" }).message).to.include("set either MQTT_URL");
    });

    it("test_redactConfig_hidesMqttCredentials", function () {
      const logged = JSON.stringify(redactConfig(loadConfig({ MQTT_URL: "mqtt://ingest:hunter2@broker:1883" })));
      expect(logged).to.not.include("hunter2");
    });
  });

  describe("sign-in sessions", function () {
    it("test_loadConfig_sessionSecret_acceptsHexOrBase64_andIsRedacted", function () {
      const hex = "ab".repeat(32);
      const fromHex = loadConfig({ SESSION_SECRET: hex });
      expect(Buffer.from(fromHex.session.secret, "base64url").toString("hex")).to.equal(hex);
      expect(fromHex.session.secretGenerated).to.equal(false);
      const base64 = Buffer.alloc(40, 7).toString("base64");
      expect(Buffer.from(loadConfig({ SESSION_SECRET: base64 }).session.secret, "base64url")).to.deep.equal(Buffer.alloc(40, 7));
      expect(redactConfig(fromHex).session).to.include({ secret: "[redacted]" });
    });

    it("test_loadConfig_sessionSecretUnset_drawsOnePerLoad", function () {
      const a = loadConfig({});
      const b = loadConfig({});
      expect(a.session.secretGenerated).to.equal(true);
      expect(Buffer.from(a.session.secret, "base64url")).to.have.length(32);
      expect(a.session.secret).to.not.equal(b.session.secret);
      expect(a.session).to.include({ ttlSeconds: 28_800, nonceTtlSeconds: 600 });
    });

    it("test_loadConfig_weakSessionSecretOrBadTtl_isOneLineEach", function () {
      let error: unknown = null;
      try {
        loadConfig({ SESSION_SECRET: "password123", SESSION_TTL_SECONDS: "5", SIGN_IN_NONCE_TTL_SECONDS: "99999" });
      } catch (thrown) {
        error = thrown;
      }
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as ConfigError).issues.map((issue) => issue.variable)).to.deep.equal([
        "SESSION_SECRET",
        "SESSION_TTL_SECONDS",
        "SIGN_IN_NONCE_TTL_SECONDS",
      ]);
    });
  });
});
