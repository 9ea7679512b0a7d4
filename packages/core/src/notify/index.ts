export { type NotificationResult, type NotificationSettings, notify, notifyStart } from './notify.js';
export type {
  NotificationDestination,
  NotificationEvent,
  NotificationInput,
  NotificationPayload,
} from './payload.js';
