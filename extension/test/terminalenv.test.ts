import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AUTH_TOKEN,
  endpointProblem,
  FULL_URI,
  sessionEndpointUrl,
  sessionTerminalEnv,
  terminalCredentialVars,
} from "../src/terminalenv";

const endpoint = { url: "http://127.0.0.1:43123/", authorizationToken: "tok-0123456789abcdef" };

describe("the variables every new terminal gets", () => {
  test("the endpoint (prepended) and its token; no key of any kind", () => {
    assert.deepEqual(terminalCredentialVars(endpoint, {}), [
      { name: FULL_URI, value: "http://127.0.0.1:43123/", op: "prepend" },
      { name: AUTH_TOKEN, value: "tok-0123456789abcdef", op: "replace" },
    ]);
    // The base URL always ends in "/", so a bound terminal's "session/NAME" lands after it.
    assert.equal(terminalCredentialVars({ ...endpoint, url: "http://127.0.0.1:1" }, {})[0].value, "http://127.0.0.1:1/");
  });

  test("an endpoint VS Code's own environment names (a container's) is replaced, not prepended to", () => {
    assert.equal(terminalCredentialVars(endpoint, { [FULL_URI]: "http://169.254.170.23/v1/credentials" })[0].op, "replace");
  });

  test("static keys VS Code's environment holds are emptied (the chain reads them before the endpoint); a profile is left alone", () => {
    const vars = terminalCredentialVars(endpoint, {
      AWS_ACCESS_KEY_ID: "AKIAEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "secret",
      AWS_SESSION_TOKEN: "",
      AWS_PROFILE: "dev",
      PATH: "/bin",
    });
    assert.deepEqual(vars.slice(2), [
      { name: "AWS_ACCESS_KEY_ID", value: "", op: "replace" },
      { name: "AWS_SECRET_ACCESS_KEY", value: "", op: "replace" },
    ]);
    assert.ok(!vars.some((v) => v.name === "AWS_PROFILE" || v.name === "PATH"));
  });
});

describe("a terminal bound to one session", () => {
  test("url + session/NAME, the name escaped", () => {
    assert.equal(sessionEndpointUrl("http://127.0.0.1:1/", "dev"), "http://127.0.0.1:1/session/dev");
    assert.equal(sessionEndpointUrl("http://127.0.0.1:1", "dev"), "http://127.0.0.1:1/session/dev");
    assert.equal(sessionEndpointUrl("http://127.0.0.1:1/", "a b/../c?d"), "http://127.0.0.1:1/session/a%20b%2F..%2Fc%3Fd");
  });

  test("its env: the session's URL and the token, keys, profile and credentials file taken away, the Region set", () => {
    const env = sessionTerminalEnv(endpoint, "e2e-export", "us-west-2", "/dev/null", false);
    assert.deepEqual(env, {
      [FULL_URI]: "http://127.0.0.1:43123/session/e2e-export",
      [AUTH_TOKEN]: "tok-0123456789abcdef",
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: null,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: null,
      AWS_PROFILE: null,
      AWS_DEFAULT_PROFILE: null,
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      AWS_ACCESS_KEY_ID: null,
      AWS_SECRET_ACCESS_KEY: null,
      AWS_SESSION_TOKEN: null,
      AWS_SECURITY_TOKEN: null,
      AWS_REGION: "us-west-2",
      AWS_DEFAULT_REGION: "us-west-2",
    });
    assert.ok(!("AWS_REGION" in sessionTerminalEnv(endpoint, "x", undefined, "/dev/null", false)));
  });

  test("while every terminal gets the endpoint prepended, it carries only session/NAME: together the session's URL", () => {
    const env = sessionTerminalEnv(endpoint, "a b", undefined, "/dev/null", true);
    assert.equal(env[FULL_URI], "session/a%20b");
    const global = terminalCredentialVars(endpoint, {})[0];
    assert.equal(global.value + env[FULL_URI], sessionEndpointUrl(endpoint.url, "a b"));
  });
});

describe("which endpoints are handed out", () => {
  test("only loopback http(s) with a token", () => {
    assert.equal(endpointProblem(endpoint), undefined);
    assert.equal(endpointProblem({ ...endpoint, url: "http://[::1]:9/" }), undefined);
    assert.equal(endpointProblem({ ...endpoint, url: "http://localhost:9/" }), undefined);
    assert.match(endpointProblem({ ...endpoint, url: "http://10.0.0.1:9/" }) ?? "", /loopback/);
    assert.match(endpointProblem({ ...endpoint, url: "http://127.0.0.1.evil.com/" }) ?? "", /loopback/);
    assert.match(endpointProblem({ ...endpoint, url: "file:///x" }) ?? "", /not http/);
    assert.match(endpointProblem({ ...endpoint, url: "::" }) ?? "", /parse/);
    assert.match(endpointProblem({ ...endpoint, authorizationToken: "" }) ?? "", /token/);
    assert.match(endpointProblem({ ...endpoint, authorizationToken: "a\r\nX-Injected: 1" }) ?? "", /token/);
  });
});

