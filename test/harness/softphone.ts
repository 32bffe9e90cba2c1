import type { Browser, Page } from "playwright-core";
import type { SipedgePhoneHook } from "../../workers/softphone/app.ts";
import type { CallQuality } from "../../workers/softphone/call-quality.ts";
import { eventually } from "./admin.ts";
import { openPage, pageErrors } from "./chromium.ts";

/**
 * The softphone page (workers/softphone/) in headless Chromium, driven
 * through its test hook `window.sipedgePhone` (state + the buttons'
 * actions), for test/integration/softphone*.test.ts.
 */
export type HookState = SipedgePhoneHook["state"];

/** The phone's state, read through the page's test hook. */
export const stateOf = (page: Page): Promise<HookState> => page.evaluate(() => window.sipedgePhone.state);

/** The current call's quality figures (getStats), or undefined without a call. */
export const statsOf = (page: Page): Promise<CallQuality | undefined> => page.evaluate(() => window.sipedgePhone.stats());

/** The states tests wait for (functions, not strings: the page's CSP forbids eval). */
export type Want = "registered" | "signed-out" | "ringing" | "incoming" | "established" | "ended" | "held" | "resumed";

/** Waits in the page until the phone's state is `want` (for a call: `peerPrefix`'s call). */
export async function waitForState(page: Page, want: Want, peerPrefix = "", timeoutMs = 15_000): Promise<HookState> {
  await page.waitForFunction(
    ([w, prefix]) => {
      const s = window.sipedgePhone.state;
      if (w === "registered" || w === "signed-out") return s.registration === w;
      const c = s.call;
      if (c === undefined || !c.peer.startsWith(prefix!)) return false;
      // Held/resumed once the re-INVITE has its answer.
      if (w === "held") return c.held && !c.renegotiating;
      if (w === "resumed") return !c.held && !c.renegotiating;
      return c.status === w;
    },
    [want, peerPrefix] as const,
    { timeout: timeoutMs, polling: 50 },
  );
  return stateOf(page);
}

/**
 * Waits until the page hears the other side: more than `after + packets`
 * inbound RTP packets, a tone above silence (the fake microphone's beep),
 * DTLS connected (PLATFORM.md's real-audio check). Returns the figures.
 *
 * Polled from here, not with `page.waitForFunction`: Playwright takes an
 * async predicate's Promise as a truthy answer and returns at once.
 */
export async function waitForAudio(page: Page, opts: { after?: number; packets?: number; timeoutMs?: number } = {}): Promise<CallQuality> {
  const floor = (opts.after ?? 0) + (opts.packets ?? 50);
  const q = await eventually(
    () => statsOf(page),
    (q) => q !== undefined && q.packetsReceived > floor && (q.audioLevel ?? 0) > 0 && q.dtlsState === "connected",
    opts.timeoutMs ?? 15_000,
    `more than ${floor} inbound packets, audio above silence and DTLS connected`,
  );
  return q!;
}

export interface Phone {
  page: Page;
  /** The page's console errors and uncaught exceptions. */
  errors: string[];
}

/**
 * Opens softphone pages, one browser context ("device") each, and closes
 * them all (signed out first, so no binding outlives its test) at `closeAll`.
 */
export class SoftphonePages {
  private readonly open: Phone[] = [];

  constructor(
    private readonly browser: () => Browser,
    private readonly edgeUrl: string,
  ) {}

  async page(): Promise<Phone> {
    const page = await openPage(this.browser(), `${this.edgeUrl}/`);
    const phone = { page, errors: pageErrors(page) };
    this.open.push(phone);
    await page.waitForFunction(() => window.sipedgePhone !== undefined);
    return phone;
  }

  /** A page signed in (registered) as `user`. */
  async signedIn(user: { aor: string; password: string }): Promise<Phone> {
    const phone = await this.page();
    await phone.page.evaluate(([aor, pw]) => window.sipedgePhone.signIn(aor!, pw!), [user.aor, user.password]);
    return phone;
  }

  async closeAll(): Promise<void> {
    for (const { page } of this.open.splice(0)) {
      await page.evaluate(() => window.sipedgePhone.signOut()).catch(() => undefined);
      await page.context().close();
    }
  }
}
