import { expect } from "chai";
import { ConfigError, loadConfig } from "../../../backend/config.ts";
import { DEFAULT_CLONE_THRESHOLDS } from "../../../backend/passport/passport-service.ts";

describe("passport configuration", function () {
  it("test_loadConfig_noCloneThresholds_usesServiceDefaults", function () {
    expect(loadConfig({}).passportCloneThresholds).to.deep.equal(DEFAULT_CLONE_THRESHOLDS);
  });

  it("test_loadConfig_cloneThresholdsFromEnvironment_namesEachBadValue", function () {
    const config = loadConfig({
      PASSPORT_CLONE_MAX_SCANS: "500",
      PASSPORT_CLONE_MAX_RECENT_SCANS: "40",
      PASSPORT_CLONE_WINDOW_MS: "3600000",
      PASSPORT_CLONE_MAX_REGIONS: "5",
    });
    expect(config.passportCloneThresholds).to.deep.equal({ maxScans: 500, maxRecentScans: 40, recentWindowMs: 3_600_000, maxRegions: 5 });
    try {
      loadConfig({ PASSPORT_CLONE_MAX_SCANS: "0", PASSPORT_CLONE_MAX_REGIONS: "many" });
      expect.fail("expected a ConfigError");
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as ConfigError).issues.map((issue) => issue.variable)).to.deep.equal([
        "PASSPORT_CLONE_MAX_SCANS",
        "PASSPORT_CLONE_MAX_REGIONS",
      ]);
    }
  });
});
