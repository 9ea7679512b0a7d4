export { AUDIT_LOG, type AuditAction, type AuditEntry, writeAudit } from './audit.js';
export {
  HISTORY_FILE,
  type HistoryRecord,
  isBackupRecord,
  type MaintenanceRecord,
  type RunRecord,
  readHistory,
  readRunHistory,
  recordRun,
} from './history.js';
export { abandonedRuns, clearInFlight, type InFlightMarker, markInFlight } from './in-flight.js';
export { emptyWriterRecords, readWriterRecords, type WriterRecords } from './writer-records.js';
