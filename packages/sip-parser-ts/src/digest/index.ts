// Digest authentication for SIP (RFC 2617, RFC 7616, RFC 8760): hashes,
// header syntax, the computation, stateless nonces, and the server and
// client sides built on them.

export { md5Hex, md5Bytes } from "./md5.ts";
export { sha256Hex, sha256Bytes } from "./sha256.ts";
export { hmacSha256, hmacSha256Hex, constantTimeEqual, constantTimeEqualBytes } from "./hmac.ts";
export {
  type DigestAlgorithm,
  type DigestHashName,
  parseDigestAlgorithm,
  hashNameOf,
  isSessionAlgorithm,
  digestHash,
} from "./algorithm.ts";
export {
  type AuthHeader,
  type DigestChallenge,
  type DigestCredentials,
  parseAuthHeader,
  formatChallenge,
  formatCredentials,
  formatNonceCount,
} from "./auth-header.ts";
export {
  type Ha1ByAlgorithm,
  type ResponseInput,
  type VerifyInput,
  computeHA1,
  computeSessionHA1,
  computeResponse,
  parseNonceCount,
  verifyCredentials,
} from "./digest.ts";
export {
  type NonceOptions,
  type NonceCheckOptions,
  type NonceCheck,
  type NonceCountStore,
  createNonce,
  checkNonce,
  nonceIssuedAt,
  MemoryNonceCountStore,
} from "./nonce.ts";
export {
  type ChallengeOptions,
  type AuthFailure,
  type AuthenticateResult,
  type AuthenticateOptions,
  type FindCredentialsResult,
  buildChallenges,
  findCredentials,
  authenticate,
} from "./server.ts";
export { type AnswerOptions, answerChallenge, pickChallenge, canAnswer } from "./client.ts";
