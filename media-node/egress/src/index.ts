// sipedge-egress: the SIP side of the egress proxy. See README.md.

export { type Clock, type TimerHandle, systemClock } from "./clock.ts";
export { type TransactionCounters, type TransportCounters } from "./counters.ts";
export { jsonLogger, silentLogger, type Logger, type LogFields, type LogLevel } from "./log.ts";

// Transport layer (RFC 3261 §18).
export { type Destination, type MessageSource, type TransportProtocol, defaultPort, isReliable } from "./transport/protocol.ts";
export { TransportError } from "./transport/transport-error.ts";
export { type ListenerConfig, type MessageHandler, SipTransportLayer, type SipTransportConfig, type TlsListenerConfig } from "./transport/sip-transport-layer.ts";
export { type ResponseTarget, responseTarget } from "./transport/response-route.ts";
export { markReceived, stampSentBy } from "./transport/via-stamp.ts";

// Transaction layer (RFC 3261 §17, RFC 6026).
export { DEFAULT_TIMERS, type TimerConfig, type Timers, resolveTimers } from "./transaction/timers.ts";
export { type TransactionTransport } from "./transaction/transaction-transport.ts";
export { type RequestHandler, type SendRequestOptions, type StrayResponseHandler, TransactionLayer, type TransactionLayerOptions } from "./transaction/transaction-layer.ts";
export { ClientTransaction, type ClientTransactionState, type LocalFailure, type ResponseListener } from "./transaction/client-transaction.ts";
export { InviteClientTransaction } from "./transaction/invite-client-transaction.ts";
export { NonInviteClientTransaction } from "./transaction/non-invite-client-transaction.ts";
export { type MatchedRequest, type ServerFailure, ServerTransaction, type ServerTransactionState } from "./transaction/server-transaction.ts";
export { InviteServerTransaction } from "./transaction/invite-server-transaction.ts";
export { NonInviteServerTransaction } from "./transaction/non-invite-server-transaction.ts";
export { TransactionStateError } from "./transaction/transaction-errors.ts";
export { ackForNon2xx, cancelFor } from "./transaction/derived-requests.ts";

// The egress proxy process (issue 5): configuration, wiring, the link to the edge, the proxy core.
export { ConfigError, type EgressConfig, describeConfig, parseEgressConfig } from "./config.ts";
export { type Egress, startEgress } from "./egress.ts";
export { type EgressContext, type EgressService, type GatewayHealth as ProxyGatewayHealth } from "./egress-service.ts";
export { EdgeLink, type LinkCounters, type LinkState, linkUrl } from "./link/edge-link.ts";
export { EDGE, LinkTransport } from "./link/link-transport.ts";
export { EgressProxy } from "./proxy/egress-proxy.ts";
export { type DialogToken, EgressRoutes } from "./proxy/egress-routes.ts";
export { DirectoryTrunkSource, type ReloadableTrunkSource, type TrunkSource } from "./trunks/trunk-source.ts";
