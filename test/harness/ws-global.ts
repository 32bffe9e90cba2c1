import WebSocket from "ws";

/**
 * JsSIP and SIP.js open their sockets with the browser's global WebSocket
 * (`new WebSocket(url, "sip")`); Node 20 has none, so tests give them `ws`.
 * The subprotocol they pass is kept, so the edge sees what a browser sends.
 */
export function installGlobalWebSocket(): void {
  (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
}
