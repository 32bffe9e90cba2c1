// The config and accounts files of a baresip 1.0.0 (Debian's) that plays a
// legacy phone on loopback: no sound card, a tone as its microphone, G.711
// and G.722, controlled through its standard input; reached as a trunk's
// gateway (its numbers), or registered through the egress proxy as a
// subscriber's phone (issue 5, "Legacy phones").

export type AnswerMode = "auto" | "manual";

/** A registration of a subscriber's AOR, through the egress proxy (RFC 3327 Path, added there). */
export interface BaresipRegistration {
  /** The AOR it registers and calls from, `user@domain` (a subscriber of the edge). */
  aor: string;
  /** The subscriber's digest password: only ever in the accounts file (mode 0600), never in a log or an error. */
  password: string;
  /**
   * Where every request of this account goes, over UDP: the egress proxy's
   * SIP address (baresip's `outbound`, a preloaded loose Route, RFC 3261
   * §8.1.2). The egress keeps the phone's address as it saw it in its Path.
   */
  outboundProxy: { host: string; port: number; transport?: "udp" | "tcp" | "tls" };
  /**
   * With `transport: "tls"`: the CA file (PEM) that signed the egress's
   * certificate (baresip's `sip_cafile`; libre verifies the server with it).
   */
  caFile?: string;
  /** Registration interval asked for, in seconds (baresip's `regint`; default 600). The edge grants 60-3600. */
  regintS?: number;
  /**
   * Register under SIP outbound (RFC 5626; baresip's `sipnat=outbound`):
   * `+sip.instance` and `reg-id` in the Contact, and keep-alives of its own
   * (STUN over UDP, CRLFCRLF over TCP/TLS) every Flow-Timer of the 2xx.
   */
  sipOutbound?: boolean;
}

export interface BaresipConfigOptions {
  /** The loopback address it binds SIP to (and names in its SDP). */
  host: string;
  /** SIP over UDP and TCP; baresip 1.0.0 also always binds TLS on `sipPort + 1`. */
  sipPort: number;
  /**
   * The numbers it answers to, one account each; the first is the one it
   * dials from. baresip 1.0.0 takes a call only when the Request-URI's user
   * is one of its accounts' users (it has no catch-all account), and a
   * trunk's egress sends the dialled number there (`sip:+1555…@gw;user=phone`).
   * May be empty with a `registration`.
   */
  numbers: readonly string[];
  /** Registers this AOR through the egress: its account comes first (the one it dials from). */
  registration?: BaresipRegistration;
  answerMode: AnswerMode;
  /** The tone it sends (Hz): what the other side hears. */
  toneHz: number;
  /**
   * Its TLS server certificate and key in one PEM file (baresip's
   * `sip_certificate`), for a trunk gateway reached over TLS on `sipPort + 1`.
   */
  tlsCertificate?: string;
}

/** An account user baresip can hold: E.164 (`+` and digits) or a plain user name. */
const ACCOUNT_USER = /^\+?[0-9A-Za-z._-]{1,64}$/;
const ABSOLUTE_PATH = /^\/\S+$/;
const LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const DOMAIN = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
/**
 * What an `auth_pass` in baresip's accounts file can carry: libre reads a
 * parameter's value up to the first space or `;` and keeps quotes and
 * backslashes as they are, so those (and `<`, `>`, non-ASCII) cannot be
 * written there.
 */
const ACCOUNT_PASSWORD = /^[\x21-\x7e]{1,128}$/;
const PASSWORD_UNSAFE = /[;"<>\\]/;
/** The registration interval baresip asks for when none is given (seconds). */
export const DEFAULT_REGINT_S = 600;
/** The module folder of Debian's baresip packages. */
export const BARESIP_MODULE_PATH = "/usr/lib/baresip/modules";

/**
 * The `config` file. Each choice is one a loopback test needs:
 * - `net_interface` the host: otherwise baresip picks the default route's
 *   address for its Contact and SDP (`lo` by name is refused, an address is not);
 * - `ausine` as the audio source, so the far end hears a tone: it only runs
 *   at 48 kHz stereo, and baresip resamples it for the codec;
 * - `aubridge` as player and alert device: a sink that needs no sound card
 *   and costs no CPU (its thread runs only when a source of the same name
 *   exists; ALSA's `null` device spun a core in a write loop);
 * - `rtp_stats` so every call's end logs its packet counts;
 * - `stdio` is the control channel: commands come on its standard input,
 *   which only the process that started it holds (baresip's `ctrl_tcp` and
 *   `cons` would be unauthenticated TCP/UDP ports).
 */
export function baresipConfig(opts: BaresipConfigOptions): string {
  validate(opts);
  return [
    "# written by sipedge (packages/sipedge/src/stack/baresip-config.ts); throw-away",
    "poll_method\t\tepoll",
    `sip_listen\t\t${opts.host}:${opts.sipPort}`,
    `net_interface\t\t${opts.host}`,
    "call_local_timeout\t120",
    "call_max_calls\t\t4",
    `audio_source\t\tausine,${opts.toneHz}`,
    "ausrc_srate\t\t48000",
    "ausrc_channels\t\t2",
    "audio_player\t\taubridge,sink",
    "audio_alert\t\taubridge,alert",
    "rtcp_mux\t\tno",
    "rtp_stats\t\tyes",
    "statmode_default\toff",
    "menu_bell\t\tno",
    `module_path\t\t${BARESIP_MODULE_PATH}`,
    "module\t\t\tstdio.so",
    "module\t\t\tg711.so",
    "module\t\t\tg722.so",
    "module\t\t\tausine.so",
    "module\t\t\taubridge.so",
    // Outbound's +sip.instance is the UUID this module keeps in the config dir (baresip: "outbound requires valid UUID").
    ...(opts.registration?.sipOutbound === true ? ["module_tmp\t\tuuid.so"] : []),
    "module_tmp\t\taccount.so",
    "module_app\t\tmenu.so",
    ...(opts.registration?.caFile !== undefined ? [`sip_cafile\t\t${opts.registration.caFile}`] : []),
    ...(opts.tlsCertificate !== undefined ? [`sip_certificate\t\t${opts.tlsCertificate}`] : []),
    "",
  ].join("\n");
}

/**
 * The `accounts` file: first the registration, if any — the AOR with its
 * password (`auth_pass`; the digest user name is the AOR's user, as JsSIP
 * and SIP.js send it), the egress as `outbound` proxy, `regint`; then one
 * line per number, `regint=0` (no registrar: the phone is reached as a
 * trunk's gateway). Each with the answer mode and no codec list (every
 * loaded codec: PCMU, PCMA, G722, and telephone-event/8000, which baresip
 * always offers). It holds a password: write it readable by its owner only.
 */
export function baresipAccounts(opts: BaresipConfigOptions): string {
  validate(opts);
  const lines: string[] = [];
  const r = opts.registration;
  if (r !== undefined) {
    const transport = r.outboundProxy.transport ?? "udp";
    const outbound = `sip:${r.outboundProxy.host}:${r.outboundProxy.port}${transport === "udp" ? "" : `;transport=${transport}`}`;
    lines.push(`<sip:${r.aor}>;auth_pass=${r.password};outbound="${outbound}";regint=${r.regintS ?? DEFAULT_REGINT_S}${r.sipOutbound === true ? ";sipnat=outbound" : ""};answermode=${opts.answerMode}\n`);
  }
  for (const n of opts.numbers) lines.push(`<sip:${n}@${opts.host}:${opts.sipPort}>;regint=0;answermode=${opts.answerMode}\n`);
  return lines.join("");
}

function validate(opts: BaresipConfigOptions): void {
  if (!LOOPBACK.test(opts.host)) throw new TypeError(`baresip host must be a loopback IPv4 address (127.x.y.z), not ${JSON.stringify(opts.host)}`);
  if (!Number.isInteger(opts.sipPort) || opts.sipPort < 1 || opts.sipPort > 65534) throw new TypeError(`baresip SIP port must be 1-65534 (it also takes the next port for TLS), not ${opts.sipPort}`);
  if (opts.numbers.length === 0 && opts.registration === undefined) throw new TypeError("baresip needs at least one number to answer to, or a registration");
  for (const n of opts.numbers) if (!ACCOUNT_USER.test(n)) throw new TypeError(`baresip number ${JSON.stringify(n)} is not a number (+ and digits) or a plain user name`);
  if (!Number.isInteger(opts.toneHz) || opts.toneHz < 20 || opts.toneHz > 20_000) throw new TypeError(`baresip tone must be 20-20000 Hz, not ${opts.toneHz}`);
  if (opts.registration !== undefined) validateRegistration(opts.registration);
  if (opts.tlsCertificate !== undefined && !ABSOLUTE_PATH.test(opts.tlsCertificate)) throw new TypeError(`baresip tlsCertificate must be an absolute path without spaces, not ${JSON.stringify(opts.tlsCertificate)}`);
}

function validateRegistration(r: BaresipRegistration): void {
  const at = r.aor.lastIndexOf("@");
  const user = r.aor.slice(0, at);
  const domain = r.aor.slice(at + 1);
  if (at <= 0 || !ACCOUNT_USER.test(user) || !DOMAIN.test(domain)) {
    throw new TypeError(`baresip registration AOR must be user@domain (no "sip:", a plain user name), not ${JSON.stringify(r.aor)}`);
  }
  // Never the password itself in the message: errors end up in logs.
  if (!ACCOUNT_PASSWORD.test(r.password) || PASSWORD_UNSAFE.test(r.password)) {
    throw new TypeError('baresip registration password must be 1-128 printable ASCII characters without spaces, ;, ", <, > or \\ (baresip\'s accounts file cannot carry them): choose another password for this subscriber');
  }
  const { host, port } = r.outboundProxy;
  if (!LOOPBACK.test(host)) throw new TypeError(`baresip outbound proxy (the egress) must be a loopback IPv4 address (127.x.y.z), not ${JSON.stringify(host)}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError(`baresip outbound proxy port must be 1-65535, not ${port}`);
  if (r.outboundProxy.transport === "tls" && r.caFile === undefined) throw new TypeError("baresip registration over TLS needs caFile: the CA (PEM) that signed the egress's certificate");
  if (r.caFile !== undefined && !ABSOLUTE_PATH.test(r.caFile)) throw new TypeError(`baresip caFile must be an absolute path without spaces, not ${JSON.stringify(r.caFile)}`);
  const regint = r.regintS ?? DEFAULT_REGINT_S;
  if (!Number.isInteger(regint) || regint < 60 || regint > 86_400) {
    throw new TypeError(`baresip registration interval must be 60-86400 s (registrars refuse less than 60 with 423, RFC 3261 §10.3), not ${regint}`);
  }
}
