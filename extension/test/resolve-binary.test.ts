import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { resolveBinary } from "../src/supervisor";

describe("resolveBinary", () => {
  test("uses the packaged binary for VS Code's target names", () => {
    assert.equal(resolveBinary("/ext", "linux", "x64"), "/ext/bin/linux-x64/awsflow-sts");
    assert.equal(resolveBinary("/ext", "linux", "arm64"), "/ext/bin/linux-arm64/awsflow-sts");
    assert.equal(resolveBinary("/ext", "darwin", "arm64"), "/ext/bin/darwin-arm64/awsflow-sts");
    assert.equal(resolveBinary("/ext", "darwin", "x64"), "/ext/bin/darwin-x64/awsflow-sts");
  });

  test("adds .exe and uses backslashes on Windows", () => {
    assert.equal(resolveBinary("C:\\ext", "win32", "x64"), "C:\\ext\\bin\\win32-x64\\awsflow-sts.exe");
    assert.equal(resolveBinary("C:\\ext", "win32", "arm64"), "C:\\ext\\bin\\win32-arm64\\awsflow-sts.exe");
  });

  test("an override wins; an empty or blank one does not", () => {
    assert.equal(resolveBinary("/ext", "linux", "x64", "/opt/awsflow-sts"), "/opt/awsflow-sts");
    assert.equal(resolveBinary("/ext", "freebsd", "ia32", " /opt/awsflow-sts "), "/opt/awsflow-sts");
    assert.equal(resolveBinary("/ext", "linux", "x64", ""), "/ext/bin/linux-x64/awsflow-sts");
    assert.equal(resolveBinary("/ext", "linux", "x64", "   "), "/ext/bin/linux-x64/awsflow-sts");
  });

  test("an unsupported machine gets a clear error", () => {
    assert.throws(() => resolveBinary("/ext", "freebsd", "x64"), /no sidecar for freebsd-x64.*make build/);
    assert.throws(() => resolveBinary("/ext", "linux", "ia32"), /no sidecar for linux-ia32/);
  });
});
