import { describe, expect, it } from "vitest";
import type { TracedSipMessage } from "../../src/stack/baresip-output.ts";
import { BaresipRegistrationLog } from "../../src/stack/baresip-registration.ts";

// How the baresip launcher follows a registration (packages/sipedge/src/
// stack/baresip-registration.ts), on lines and trace messages captured from
// Debian's baresip 1.0.0.

const AOR = "carol-n2up3b@example.com";
const PHONE = "127.0.0.1:48002";
const EGRESS = "127.0.0.1:53508";

const sent = (text: string): TracedSipMessage => ({ transport: "UDP", source: PHONE, destination: EGRESS, text });
const received = (text: string): TracedSipMessage => ({ transport: "UDP", source: EGRESS, destination: PHONE, text });
const register = (cseq: number, expires: number): TracedSipMessage =>
  sent(
    [
      "REGISTER sip:example.com SIP/2.0",
      "Via: SIP/2.0/UDP 127.0.0.1:48002;branch=z9hG4bK60f5709558785699;rport",
      `Contact: <sip:carol-n2up3b-0x558a7aa29a70@127.0.0.1:48002>;expires=${expires}`,
      "Max-Forwards: 70",
      "Route: <sip:127.0.0.1:53508;lr>",
      `To: <sip:${AOR}>`,
      `From: <sip:${AOR}>;tag=f36b41c346163c3a`,
      "Call-ID: 035d877521eabe76",
      `CSeq: ${cseq} REGISTER`,
      "Content-Length: 0",
      "",
    ].join("\r\n"),
  );
const response = (cseq: number, status: string): TracedSipMessage =>
  received([`SIP/2.0 ${status}`, "Via: SIP/2.0/UDP 127.0.0.1:48002;branch=z9hG4bK1;rport", "Call-ID: 035d877521eabe76", `CSeq: ${cseq} REGISTER`, "Content-Length: 0", ""].join("\r\n"));

describe("baresip registration log", () => {
  it("registering, then registered on its 200 line (colours, stdio echo and all), with the bindings it lists", () => {
    const log = new BaresipRegistrationLog(AOR);
    expect(log.status).toEqual({ state: "registering" });
    // A challenge and its answer are not logged as failures: nothing changes.
    expect(log.message(register(2618, 300))).toBe(false);
    expect(log.message(response(2618, "401 Unauthorized"))).toBe(false);
    expect(log.line("Populated 1 account")).toBe(false);
    expect(log.line(`\x1b[32m${AOR}: {0/UDP/v4} 200 OK (sipedge) [2 bindings]\x1b[;m`)).toBe(true);
    expect(log.status).toEqual({ state: "registered", detail: "200 OK", bindings: 2 });
    expect(log.line("\x1b[32mAll 1 useragent registered successfully! (58 ms)\x1b[;m")).toBe(false);
    // Another account's line is not ours.
    expect(log.line("dave@example.com: {0/UDP/v4} 200 OK () [1 binding]")).toBe(false);
    expect(log.line(`x${AOR}: {0/UDP/v4} 403 Forbidden () [0 bindings]`)).toBe(false);
    expect(log.line("reg: sip:dave@example.com: 403 Forbidden ()")).toBe(false);
    expect(log.status.state).toBe("registered");
  });

  it("failed with the registrar's reason or baresip's error; registered again when a retry succeeds", () => {
    const log = new BaresipRegistrationLog(AOR);
    expect(log.line(`\x1b[31mreg: sip:${AOR}: 403 Forbidden - Wrong password (sipedge)\x1b[;m`)).toBe(true);
    expect(log.status).toEqual({ state: "failed", detail: "403 Forbidden - Wrong password" });
    expect(log.line(`/\r/q\rreg: sip:${AOR}: Register: Connection timed out`)).toBe(true);
    expect(log.status).toEqual({ state: "failed", detail: "Register: Connection timed out" });
    log.line(`${AOR}: {0/UDP/v4} 200 OK () [1 binding]`);
    expect(log.status).toEqual({ state: "registered", detail: "200 OK", bindings: 1 });
  });

  it("unregistering when it sends expires=0, unregistered on the 2xx to that REGISTER (after a challenge), not on other answers", () => {
    const log = new BaresipRegistrationLog(AOR);
    log.line(`${AOR}: {0/UDP/v4} 200 OK () [1 binding]`);
    // A refresh's 200 is no unregistration.
    log.message(register(2622, 300));
    expect(log.message(response(2622, "200 OK"))).toBe(false);
    expect(log.message(register(2623, 0))).toBe(true);
    expect(log.status).toEqual({ state: "unregistering" });
    expect(log.message(response(2623, "401 Unauthorized"))).toBe(false);
    expect(log.message(register(2624, 0))).toBe(false);
    expect(log.message(response(2624, "100 Trying"))).toBe(false);
    expect(log.message(response(2624, "200 OK"))).toBe(true);
    expect(log.status).toEqual({ state: "unregistered", detail: "200 OK" });
  });

  it("a refused unregistration is a failure", () => {
    const log = new BaresipRegistrationLog(AOR);
    log.message(register(7, 0));
    log.message(response(7, "500 Server Internal Error"));
    expect(log.status).toEqual({ state: "failed", detail: "unregister: 500 Server Internal Error" });
  });
});
