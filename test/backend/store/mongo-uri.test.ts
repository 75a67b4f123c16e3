/**
 * MongoDB connection strings: what the adapter may print (hosts, database) and what it must never print
 * (credentials), and the one-line connection failure messages. No server needed.
 */
import { expect } from "chai";

import { connectFailure } from "../../../backend/store/mongo/index.ts";
import { MongoUriError, parseMongoUri, redactedMongoUri, scrubCredentials } from "../../../backend/store/mongo/uri.ts";

function uriError(uri: string): MongoUriError {
  try {
    parseMongoUri(uri);
  } catch (error) {
    expect(error).to.be.instanceOf(MongoUriError);
    return error as MongoUriError;
  }
  throw new Error(`${uri} was accepted`);
}

describe("MongoDB store: connection strings", function () {
  describe("parseMongoUri", function () {
    it("test_parseMongoUri_standalone_withCredentialsAndOptions", function () {
      expect(parseMongoUri("mongodb://provena:s3cret@db.example.com:27017/mirror?authSource=admin")).to.deep.equal({
        scheme: "mongodb",
        hosts: ["db.example.com:27017"],
        database: "mirror",
        username: "provena",
        password: "s3cret",
      });
    });

    it("test_parseMongoUri_replicaSet_listsEveryHost", function () {
      const parts = parseMongoUri("mongodb://a.example:27017,b.example:27018,[::1]:27019/?replicaSet=rs0");
      expect(parts.hosts).to.deep.equal(["a.example:27017", "b.example:27018", "[::1]:27019"]);
      expect(parts.database).to.equal(null);
      expect(parts.username).to.equal(null);
    });

    it("test_parseMongoUri_srv_andPercentEncodedCredentials", function () {
      const parts = parseMongoUri("mongodb+srv://app%40corp:p%2Fss%3Aw%40rd@cluster0.example.net/provena");
      expect(parts).to.include({ scheme: "mongodb+srv", username: "app@corp", password: "p/ss:w@rd", database: "provena" });
      expect(parts.hosts).to.deep.equal(["cluster0.example.net"]);
    });

    it("test_parseMongoUri_unixSocket", function () {
      expect(parseMongoUri("mongodb://%2Ftmp%2Fmongodb-27017.sock/provena").hosts).to.deep.equal(["%2Ftmp%2Fmongodb-27017.sock"]);
    });

    it("test_parseMongoUri_malformed_isRefusedWithoutEchoingIt", function () {
      const malformed = [
        "",
        "postgres://user:hunter22@db/provena",
        "mongodb://",
        "mongodb://user:hunter22@",
        "mongodb://us@er:hunter22@db/provena", // unencoded '@' in the user name
        "mongodb://user:hunt/er22@db/provena", // unencoded '/' in the password
        "mongodb://user:1234/5678@db/provena", // the same, with a password that looks like a port
        "mongodb://user:hunter22@db:notaport/provena",
        "mongodb://user:hunter22@a,,b/provena",
        "mongodb+srv://user:hunter22@a.example,b.example/provena",
        "mongodb+srv://user:hunter22@a.example:27017/provena",
        "mongodb://user:%E0%A4%A@db/provena",
      ];
      for (const uri of malformed) {
        const error = uriError(uri);
        expect(error.message, uri).to.match(/^Invalid MONGODB_URI: /);
        for (const secret of ["hunter22", "hunt", "er22", "1234", "5678"]) expect(error.message, uri).to.not.include(secret);
      }
    });
  });

  describe("redactedMongoUri", function () {
    it("test_redactedMongoUri_keepsHostsAndDatabase_dropsCredentialsAndOptions", function () {
      const parts = parseMongoUri("mongodb://provena:s3cret@a:27017,b:27017/mirror?replicaSet=rs0&tlsCertificateKeyFilePassword=x");
      expect(redactedMongoUri(parts, "mirror")).to.equal("mongodb://a:27017,b:27017/mirror");
    });
  });

  describe("scrubCredentials", function () {
    const parts = { username: "provena-app", password: "p@ss/word!" };

    it("test_scrubCredentials_removesDecodedAndEncodedForms", function () {
      const message = "auth as provena-app with p@ss/word! (p%40ss%2Fword!) failed";
      const scrubbed = scrubCredentials(message, parts);
      expect(scrubbed).to.equal("auth as *** with *** (***) failed");
    });

    it("test_scrubCredentials_shortSecretsOnlyAsUserColonPassword", function () {
      expect(scrubCredentials("querySrv ENOTFOUND _mongodb._tcp.cluster0.invalid", { username: "u", password: "p" })).to.equal(
        "querySrv ENOTFOUND _mongodb._tcp.cluster0.invalid",
      );
      expect(scrubCredentials("Unable to parse u:p with URL", { username: "u", password: "p" })).to.equal("Unable to parse *** with URL");
    });
  });

  describe("connectFailure", function () {
    const where = "mongodb://db.example:27017/provena";
    const parts = { username: "provena", password: "s3cret-password" };
    const named = (name: string, message: string, code?: unknown) => Object.assign(new Error(message), { name, code });

    it("test_connectFailure_unreachable_namesHostAndTimeout", function () {
      const message = connectFailure(named("MongooseServerSelectionError", "connect ECONNREFUSED 10.0.0.1:27017"), where, 5000, parts);
      expect(message).to.equal(`Cannot reach MongoDB at ${where}: no server answered within 5000 ms (connect ECONNREFUSED 10.0.0.1:27017)`);
    });

    it("test_connectFailure_authentication_saysSoWithoutTheCredentials", function () {
      const message = connectFailure(named("MongoServerError", "Authentication failed.", 18), where, 5000, parts);
      expect(message).to.equal(`MongoDB at ${where} refused the credentials in MONGODB_URI (authentication failed)`);
    });

    it("test_connectFailure_srvLookup_isUnreachable", function () {
      const message = connectFailure(named("Error", "querySrv ENOTFOUND _mongodb._tcp.cluster0.invalid", "ENOTFOUND"), where, 5000, parts);
      expect(message).to.match(/^Cannot reach MongoDB at /);
    });

    it("test_connectFailure_driverMessageQuotingThePassword_isScrubbed", function () {
      const message = connectFailure(named("MongoParseError", "Unable to parse provena:s3cret-password with URL"), where, 5000, parts);
      expect(message).to.not.include("s3cret-password");
      expect(message).to.match(/^Invalid MONGODB_URI for /);
      expect(message).to.not.include("\n");
    });
  });
});
