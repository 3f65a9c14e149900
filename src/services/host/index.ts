export { ServiceActor, ServiceCodes, ServiceError, type ServiceStats } from './service-actor.js';
