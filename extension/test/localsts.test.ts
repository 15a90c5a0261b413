import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  LOCAL_PROFILE,
  localProfileFiles,
  localStsSettings,
  parseAnnouncement,
  previousSettings,
  sidecarEnv,
} from "../src/localsts";

const line = JSON.stringify({
  endpoint: "http://127.0.0.1:41234",
  region: "us-east-1",
  accessKeyId: "AKIARZPUZDIKCEZA6SZI",
  secretAccessKey: "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",
  roleArn: "arn:aws:iam::123456789012:role/Dev",
  account: "123456789012",
  ssoStartUrl: "https://localsts.invalid/start",
});

describe("the local STS's first line", () => {
  test("is read into the endpoint, Region and demo identity", () => {
    const info = parseAnnouncement(line);
    assert.equal(info.endpoint, "http://127.0.0.1:41234");
    assert.equal(info.region, "us-east-1");
    assert.equal(info.accessKeyId, "AKIARZPUZDIKCEZA6SZI");
    assert.equal(info.account, "123456789012");
  });

  test("anything but a loopback http endpoint is refused", () => {
    for (const endpoint of ["http://10.0.0.5:4566", "https://sts.amazonaws.com", "http://127.0.0.1:1/x", ""]) {
      assert.throws(() => parseAnnouncement(JSON.stringify({ ...JSON.parse(line), endpoint })), /endpoint/);
    }
  });

  test("a line that is not the announcement is refused, without echoing a secret field", () => {
    assert.throws(() => parseAnnouncement("listening"), /not JSON/);
    assert.throws(() => parseAnnouncement("[]"), /not a JSON object/);
    assert.throws(() => parseAnnouncement(JSON.stringify({ ...JSON.parse(line), accessKeyId: "ASIA0000" })), /accessKeyId/);
    assert.throws(
      () => parseAnnouncement(JSON.stringify({ ...JSON.parse(line), secretAccessKey: "short" })),
      (err: Error) => /secretAccessKey/.test(err.message) && !err.message.includes("short"),
    );
  });
});

describe("the scratch profile and settings", () => {
  const info = parseAnnouncement(line);

  test("the files hold one profile with the demo keys and Region", () => {
    const files = localProfileFiles(info);
    assert.equal(
      files.credentials,
      `[${LOCAL_PROFILE}]\naws_access_key_id = AKIARZPUZDIKCEZA6SZI\naws_secret_access_key = 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\n`,
    );
    assert.equal(files.config, `[profile ${LOCAL_PROFILE}]\nregion = us-east-1\n`);
  });

  test("the settings name the endpoint, the Region and the profile, never a key", () => {
    const s = localStsSettings(info);
    assert.deepEqual(s, { endpointUrl: "http://127.0.0.1:41234", region: "us-east-1", profile: LOCAL_PROFILE });
    assert.ok(!JSON.stringify(s).includes(info.secretAccessKey));
  });

  test("the user's values come back as saved; a damaged record means unset", () => {
    assert.deepEqual(previousSettings({ endpointUrl: "https://vpce.example", profile: "work" }), {
      endpointUrl: "https://vpce.example",
      region: undefined,
      profile: "work",
    });
    assert.deepEqual(previousSettings({ endpointUrl: 5, region: ["x"] }), { endpointUrl: undefined, region: undefined, profile: undefined });
    assert.deepEqual(previousSettings(undefined), { endpointUrl: undefined, region: undefined, profile: undefined });
  });
});

describe("the sidecar's environment", () => {
  const base = { PATH: "/usr/bin", AWS_PROFILE: "work", AWS_ACCESS_KEY_ID: "AKIAREAL", AWS_SESSION_TOKEN: "tok", AWS_CONFIG_FILE: "/home/u/.aws/config" };

  test("unchanged when no local STS is in use", () => {
    assert.equal(sidecarEnv(base, undefined), base);
  });

  test("in use: the scratch files in place of the user's, and none of the user's keys or profile", () => {
    const env = sidecarEnv(base, { credentials: "/s/credentials", config: "/s/config" });
    assert.equal(env.AWS_SHARED_CREDENTIALS_FILE, "/s/credentials");
    assert.equal(env.AWS_CONFIG_FILE, "/s/config");
    assert.equal(env.PATH, "/usr/bin");
    for (const k of ["AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN"]) assert.equal(env[k], undefined, k);
    assert.equal(base.AWS_PROFILE, "work", "the base is not changed");
  });
});
