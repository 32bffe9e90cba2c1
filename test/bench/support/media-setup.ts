import { answerCommand, deleteCommand, fixupSdp, offerCommand, type MediaLeg } from "../../../workers/src/media/profiles.ts";

/**
 * One WebRTC call setup as the edge drives it (workers/src/media/call-media.ts):
 * `offer` with the leg's profile, `answer`, then `delete` (`delete-delay: 0`).
 * With `fixups` the SDP fix-ups the edge applies to rtpengine's output run
 * too. Shared by the bench process and the Worker it runs in workerd.
 */
export type NgSend = (command: string, dict: Record<string, unknown>) => Promise<Record<string, unknown>>;

export interface SetupInput {
  leg: MediaLeg;
  offerSdp: string;
  answerSdp: string;
  fixups: boolean;
}

export async function callSetup(send: NgSend, callId: string, input: SetupInput): Promise<void> {
  const call = { callId, fromTag: `f-${callId}`, toTag: `t-${callId}` };
  const o = await send("offer", offerCommand(input.leg, call, input.offerSdp));
  if (o.result !== "ok") throw new Error(`offer: ${JSON.stringify(o)}`);
  if (input.fixups) fixupSdp(input.leg, "offer", o.sdp as string);
  const a = await send("answer", answerCommand(input.leg, call, input.answerSdp));
  if (a.result !== "ok") throw new Error(`answer: ${JSON.stringify(a)}`);
  if (input.fixups) fixupSdp(input.leg, "answer", a.sdp as string);
  const d = await send("delete", deleteCommand(call));
  if (d.result !== "ok") throw new Error(`delete: ${JSON.stringify(d)}`);
}
