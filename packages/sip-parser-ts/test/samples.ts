// Realistic messages as the browsers' SIP stacks send them (JsSIP 3.x style:
// random ".invalid" Via host and Contact host, RFC 7118 transport=ws,
// RFC 5626 +sip.instance/reg-id/ob), and a WebRTC INVITE with a Chrome-like
// SDP. Shared by the tests; lines are joined with CRLF.

export function crlf(lines: string[]): string {
  return lines.join("\r\n");
}

export const REGISTER = crlf([
  "REGISTER sip:example.com SIP/2.0",
  "Via: SIP/2.0/WSS 3hj7k2mf9q1d.invalid;branch=z9hG4bK8297461",
  "Max-Forwards: 69",
  "To: <sip:alice@example.com>",
  'From: "Alice" <sip:alice@example.com>;tag=m0d1kuf4pg',
  "Call-ID: 9r1c5h0t8e2a4k6d3l7s",
  "CSeq: 2 REGISTER",
  'Contact: <sip:u5s8d2j1@3hj7k2mf9q1d.invalid;transport=ws;ob>;+sip.ice;reg-id=1;+sip.instance="<urn:uuid:1c9d6a0e-5b2f-4c3a-9e8d-7f6a5b4c3d2e>";expires=600',
  "Expires: 600",
  "Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY",
  "Supported: path,gruu,outbound",
  "User-Agent: JsSIP 3.10.1",
  "Content-Length: 0",
  "",
  "",
]);

export const REGISTER_200 = crlf([
  "SIP/2.0 200 OK",
  "Via: SIP/2.0/WSS 3hj7k2mf9q1d.invalid;branch=z9hG4bK8297461;received=198.51.100.7;rport=53122",
  "To: <sip:alice@example.com>;tag=as4b7c9d1e",
  'From: "Alice" <sip:alice@example.com>;tag=m0d1kuf4pg',
  "Call-ID: 9r1c5h0t8e2a4k6d3l7s",
  "CSeq: 2 REGISTER",
  'Contact: <sip:u5s8d2j1@3hj7k2mf9q1d.invalid;transport=ws;ob>;+sip.ice;reg-id=1;+sip.instance="<urn:uuid:1c9d6a0e-5b2f-4c3a-9e8d-7f6a5b4c3d2e>";expires=600',
  "Supported: outbound, path",
  "Require: outbound",
  "Flow-Timer: 25",
  "Server: sipedge",
  "Content-Length: 0",
  "",
  "",
]);

export const WEBRTC_SDP = crlf([
  "v=0",
  "o=- 5512904581240977310 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0",
  "a=extmap-allow-mixed",
  "a=msid-semantic: WMS 6d0a3b8f-8b6e-4c1d-9f2a-1e3b5c7d9f0a",
  "m=audio 61742 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126",
  "c=IN IP4 198.51.100.7",
  "a=rtcp:9 IN IP4 0.0.0.0",
  "a=candidate:2999745851 1 udp 2122260223 192.168.1.20 61742 typ host generation 0 network-id 1",
  "a=candidate:1475351695 1 udp 1686052607 198.51.100.7 61742 typ srflx raddr 192.168.1.20 rport 61742 generation 0 network-id 1",
  "a=candidate:4233069003 1 tcp 1518280447 192.168.1.20 9 typ host tcptype active generation 0 network-id 1",
  "a=ice-ufrag:Xk3p",
  "a=ice-pwd:b9TqZ7yN2mR5vW8xC1dF4gH6",
  "a=ice-options:trickle",
  "a=fingerprint:sha-256 3A:96:6D:57:B2:C2:C7:61:A0:46:3E:1C:97:39:D3:F7:0A:88:A0:B1:EC:11:10:26:CC:43:D9:2E:8E:C6:05:0D",
  "a=setup:actpass",
  "a=mid:0",
  "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
  "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
  "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
  "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
  "a=sendrecv",
  "a=msid:6d0a3b8f-8b6e-4c1d-9f2a-1e3b5c7d9f0a 0b3c5d7e-9f1a-2b4c-6d8e-0f1a3b5c7d9e",
  "a=rtcp-mux",
  "a=rtpmap:111 opus/48000/2",
  "a=rtcp-fb:111 transport-cc",
  "a=fmtp:111 minptime=10;useinbandfec=1",
  "a=rtpmap:63 red/48000/2",
  "a=fmtp:63 111/111",
  "a=rtpmap:9 G722/8000",
  "a=rtpmap:0 PCMU/8000",
  "a=rtpmap:8 PCMA/8000",
  "a=rtpmap:13 CN/8000",
  "a=rtpmap:110 telephone-event/48000",
  "a=rtpmap:126 telephone-event/8000",
  "a=ssrc:3219876543 cname:Qm7vX2pL9kR4tY8w",
  "a=ssrc:3219876543 msid:6d0a3b8f-8b6e-4c1d-9f2a-1e3b5c7d9f0a 0b3c5d7e-9f1a-2b4c-6d8e-0f1a3b5c7d9e",
  "",
]);

function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

export const INVITE = crlf([
  "INVITE sip:bob@example.com SIP/2.0",
  "Via: SIP/2.0/WSS 3hj7k2mf9q1d.invalid;branch=z9hG4bK5218634",
  "Max-Forwards: 69",
  "To: <sip:bob@example.com>",
  'From: "Alice" <sip:alice@example.com>;tag=h5b9fl2kq7',
  "Call-ID: p8f2k6s0d4h9j1m3n5q7",
  "CSeq: 7385 INVITE",
  "Contact: <sip:u5s8d2j1@3hj7k2mf9q1d.invalid;transport=ws;ob>",
  "Content-Type: application/sdp",
  "Session-Expires: 90",
  "Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY",
  "Supported: timer,ice,replaces,outbound",
  "User-Agent: JsSIP 3.10.1",
  "Content-Length: " + utf8Length(WEBRTC_SDP),
  "",
  WEBRTC_SDP,
]);

export const INVITE_200 = crlf([
  "SIP/2.0 200 OK",
  "Via: SIP/2.0/WSS 3hj7k2mf9q1d.invalid;branch=z9hG4bK5218634;received=198.51.100.7;rport=53122",
  "Record-Route: <sip:edge.example.com;transport=ws;lr;r2=on>,<sip:edge.example.com;transport=udp;lr;r2=on>",
  "To: <sip:bob@example.com>;tag=8f2b1c",
  'From: "Alice" <sip:alice@example.com>;tag=h5b9fl2kq7',
  "Call-ID: p8f2k6s0d4h9j1m3n5q7",
  "CSeq: 7385 INVITE",
  "Contact: <sip:bob@192.0.2.44:5060;transport=udp>",
  "Session-Expires: 90;refresher=uac",
  "Require: timer",
  "Content-Type: application/sdp",
  "Content-Length: " + utf8Length(WEBRTC_SDP),
  "",
  WEBRTC_SDP,
]);
