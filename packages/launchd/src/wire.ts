// The agent wire protocol, as this package uses it. It lives in @dpns/protocol (agent.ts), shared
// with the name server; this file is the one place that reaches into that module, so nothing else
// in the package changes when the protocol package's entry point names these directly.
import { agent } from '@dpns/protocol';
import '@dpns/node-kit/use-native-crypto';

// The agent's side.
export const {
  AGENT_IDLE_MS, AGENT_MAX_FRAME_BYTES, AGENT_NAME, AGENT_PORT, AGENT_WINDOW_MS, AgentError, AgentErrorCodes,
  agentErrorReply, isAgentError, newBoxKeyPair, openLaunch, parseAgentRequestBody, parseAgentRequestFrame,
  parseLedgerEntry, signAgentHello, signingKeyFromSeed, verifyAgentRequest,
} = agent;

// The name server's side, which the tests use to speak to the agent exactly as a name server does.
export const {
  buildAgentRequest, loadFigure, newLaunchId, newSigningKey, parseAgentHello, parseAgentReply, parseTicketLine, sealLaunch, ticketLineText,
} = agent;

export type AgentError = agent.AgentError;
export type AgentErrorCode = agent.AgentErrorCode;
export type AgentErrorReply = agent.AgentErrorReply;
export type AgentHello = agent.AgentHello;
export type AgentKillOp = agent.AgentKillOp;
export type AgentKillReply = agent.AgentKillReply;
export type AgentLaunchOp = agent.AgentLaunchOp;
export type AgentSealedLaunchOp = agent.AgentSealedLaunchOp;
export type AgentLaunchReply = agent.AgentLaunchReply;
export type AgentLedgerEntry = agent.AgentLedgerEntry;
export type AgentOperation = agent.AgentOperation;
export type AgentOpName = agent.AgentOpName;
export type AgentReply = agent.AgentReply;
export type AgentReplyFor<O extends AgentOpName> = agent.AgentReplyFor<O>;
export type AgentRequestBody = agent.AgentRequestBody;
export type AgentRequestFrame = agent.AgentRequestFrame;
export type AgentStatusReply = agent.AgentStatusReply;
export type AgentLoadReply = agent.AgentLoadReply;
export type BoxKeyPair = agent.BoxKeyPair;
export type SigningKey = agent.SigningKey;
