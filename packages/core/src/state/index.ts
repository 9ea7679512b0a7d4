export { AUDIT_LOG, type AuditAction, type AuditEntry, writeAudit } from './audit.js';
export { HISTORY_FILE, type RunRecord, readRunHistory, recordRun } from './history.js';
