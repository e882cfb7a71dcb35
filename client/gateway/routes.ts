import { characterRoutes } from './character-routes';
import { messageRoutes } from './message-routes';
import { reviewRoutes } from './review-routes';
import type { Route } from './route';
import { seriesRoutes } from './series-routes';
import { serviceRoutes } from './service-routes';
import { takeRoutes } from './take-routes';
import { webhookRoutes } from './webhook-routes';

/** The gateway's route table, in the order the OpenAPI description lists it. */
export function gatewayRoutes(openApi: () => unknown): Route[] {
  return [
    ...seriesRoutes,
    ...takeRoutes,
    ...messageRoutes,
    ...webhookRoutes,
    ...reviewRoutes,
    ...serviceRoutes(openApi),
    ...characterRoutes,
  ];
}
