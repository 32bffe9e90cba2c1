// The config and accounts files of a baresip 1.0.0 (Debian's) that plays a
// legacy phone on loopback: no sound card, a tone as its microphone, G.711
// and G.722, no registrar, controlled through its standard input.

export type AnswerMode = "auto" | "manual";

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
   */
  numbers: readonly string[];
  answerMode: AnswerMode;
  /** The tone it sends (Hz): what the other side hears. */
  toneHz: number;
}

/** An account user baresip can hold: E.164 (`+` and digits) or a plain user name. */
const ACCOUNT_USER = /^\+?[0-9A-Za-z._-]{1,64}$/;
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
    "module_tmp\t\taccount.so",
    "module_app\t\tmenu.so",
    "",
  ].join("\n");
}

/**
 * The `accounts` file: one line per number, `regint=0` (no registrar: the
 * phone is reached as a trunk's gateway), the answer mode, and no codec list
 * (every loaded codec: PCMU, PCMA, G722, and telephone-event/8000, which
 * baresip always offers).
 */
export function baresipAccounts(opts: BaresipConfigOptions): string {
  validate(opts);
  return opts.numbers.map((n) => `<sip:${n}@${opts.host}:${opts.sipPort}>;regint=0;answermode=${opts.answerMode}\n`).join("");
}

function validate(opts: BaresipConfigOptions): void {
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(opts.host)) throw new TypeError(`baresip host must be a loopback IPv4 address (127.x.y.z), not ${JSON.stringify(opts.host)}`);
  if (!Number.isInteger(opts.sipPort) || opts.sipPort < 1 || opts.sipPort > 65534) throw new TypeError(`baresip SIP port must be 1-65534 (it also takes the next port for TLS), not ${opts.sipPort}`);
  if (opts.numbers.length === 0) throw new TypeError("baresip needs at least one number to answer to");
  for (const n of opts.numbers) if (!ACCOUNT_USER.test(n)) throw new TypeError(`baresip number ${JSON.stringify(n)} is not a number (+ and digits) or a plain user name`);
  if (!Number.isInteger(opts.toneHz) || opts.toneHz < 20 || opts.toneHz > 20_000) throw new TypeError(`baresip tone must be 20-20000 Hz, not ${opts.toneHz}`);
}
