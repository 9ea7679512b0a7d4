export { type NotificationResult, type NotificationSettings, notify } from './notify.js';
export type { NotificationDestination, NotificationInput, NotificationPayload } from './payload.js';
