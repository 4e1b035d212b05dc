/**
 * The stable finding codes of `deployment.yaml` (KF3xx). A code is never
 * renamed or reused once released; docs/deployment.md lists each one.
 */
import { findingBuilder, type Finding, type Severity } from '../findings.js'

/** Every deployment.yaml code with its default severity and a title for docs. */
export const DEPLOYMENT_CODES = {
    KF300: { severity: 'error', title: 'deployment.yaml is not valid YAML' },
    KF301: { severity: 'error', title: 'deployment.yaml has the wrong shape' },
    KF302: { severity: 'error', title: 'unknown field' },
    KF303: { severity: 'error', title: 'required field missing or of the wrong type' },
    KF304: { severity: 'error', title: 'agent defined twice' },
    KF305: { severity: 'error', title: 'agent name is not an RFC 1123 label' },
    KF306: { severity: 'error', title: 'namespace is not an RFC 1123 label' },
    KF307: { severity: 'error', title: 'unknown cloud' },
    KF308: { severity: 'error', title: 'unknown target' },
    KF309: { severity: 'error', title: 'bundle target without recipient' },
    KF310: { severity: 'error', title: 'recipient is not an age recipient' },
    KF311: { severity: 'error', title: 'key unknown to the catalog' },
    KF312: { severity: 'warning', title: 'key listed twice for one agent' },
    KF313: { severity: 'error', title: 'environment missing or unknown to the catalog' },
    KF314: { severity: 'error', title: 'invalid deployment, container or mountPath' },
    KF315: { severity: 'warning', title: 'field ignored for this target' },
    KF316: { severity: 'warning', title: 'agent reads no keys' },
    KF317: { severity: 'error', title: 'two agents patch the same Deployment' },
    KF318: { severity: 'error', title: 'agent region not declared by the environment' },
    KF319: { severity: 'error', title: 'invalid regions or fallback' },
    KF320: { severity: 'error', title: 'invalid pool weights' },
} as const satisfies Record<string, { severity: Severity; title: string }>

/** A deployment.yaml finding code. */
export type DeploymentCode = keyof typeof DEPLOYMENT_CODES

/** Builds a finding with the code's default severity. */
export const deploymentFinding: (code: DeploymentCode, file: string, line: number, message: string) => Finding = findingBuilder(DEPLOYMENT_CODES)
