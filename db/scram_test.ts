import { expect } from "expect";
import { ScramError, ScramExchange, ScramVerifier } from "./scram.ts";
import { ScramClient } from "./test_util.ts";

// RFC 7677 section 3: user "user", password "pencil".
const SALT = Uint8Array.from(atob("W22ZaJ0SNY7soEsUEjb6gQ=="), (c) => c.charCodeAt(0));
const SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
const CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
const SERVER_FIRST =
  "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
const CLIENT_FINAL =
  "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
const SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

function rfcExchange(password = "pencil"): ScramExchange {
  return new ScramExchange(ScramVerifier.fromPassword(password, SALT, 4096), SERVER_NONCE);
}

function sqlStateOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof ScramError) return e.sqlState;
    throw e;
  }
  return undefined;
}

Deno.test("SCRAM-SHA-256: RFC 7677 test vector", () => {
  const ex = rfcExchange();
  expect(ex.start(CLIENT_FIRST)).toBe(SERVER_FIRST);
  expect(ex.authenticated).toBe(false);
  expect(ex.finish(CLIENT_FINAL)).toBe(SERVER_FINAL);
  expect(ex.authenticated).toBe(true);
});

Deno.test("SCRAM-SHA-256: a wrong password is 28P01", () => {
  const ex = rfcExchange("not-pencil");
  expect(ex.start(CLIENT_FIRST)).toBe(SERVER_FIRST);
  expect(sqlStateOf(() => ex.finish(CLIENT_FINAL))).toBe("28P01");
  expect(ex.authenticated).toBe(false);
  // a failed exchange stays failed
  expect(sqlStateOf(() => ex.finish(CLIENT_FINAL))).toBe("08P01");
});

Deno.test("SCRAM-SHA-256: the client of test_util (postgres.js's way) authenticates", () => {
  const client = new ScramClient("s3cret");
  const ex = new ScramExchange(ScramVerifier.fromPassword("s3cret"));
  const serverFirst = ex.start(`n,,${client.clientFirstBare}`);
  const serverFinal = ex.finish(client.clientFinal(serverFirst));
  expect(client.verifyServer(serverFinal)).toBe(true);
});

Deno.test("SCRAM-SHA-256: channel binding, bad headers, tampering are refused", () => {
  expect(sqlStateOf(() => rfcExchange().start("p=tls-server-end-point,,n=*,r=abc"))).toBe("28P01");
  expect(sqlStateOf(() => rfcExchange().start("x,,n=*,r=abc"))).toBe("08P01");
  expect(sqlStateOf(() => rfcExchange().start("n,a=admin,n=*,r=abc"))).toBe("08P01");
  expect(sqlStateOf(() => rfcExchange().start("n,,r=abc"))).toBe("08P01");
  expect(sqlStateOf(() => rfcExchange().start("n,,n=*,r=" + "a".repeat(2000)))).toBe("08P01");
  // "y,," (client could bind, server does not offer it) is accepted like PostgreSQL does
  expect(rfcExchange().start("y,,n=user,r=rOprNGfwEbeRWgbNEkqO")).toBe(SERVER_FIRST);

  const tampered = [
    CLIENT_FINAL.replace("c=biws", "c=eSws"), // header differs from the first message
    CLIENT_FINAL.replace("r=rOpr", "r=xOpr"), // nonce
    CLIENT_FINAL.replace(/p=.*$/, "p=AAAA"), // short proof
    CLIENT_FINAL.replace(/,p=.*$/, ""), // no proof
    CLIENT_FINAL.replace("p=dHz", "p=eHz"), // wrong proof
  ];
  const states = tampered.map((final) => {
    const ex = rfcExchange();
    ex.start(CLIENT_FIRST);
    return sqlStateOf(() => ex.finish(final));
  });
  expect(states).toEqual(["08P01", "08P01", "08P01", "08P01", "28P01"]);
  // finish before start
  expect(sqlStateOf(() => rfcExchange().finish(CLIENT_FINAL))).toBe("08P01");
});
