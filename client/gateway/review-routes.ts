import { seriesIdOf } from '../../workflows/ids';
import { describeSeries } from '../series/series-client';
import { TOKEN_QUERY } from './auth';
import { NotFoundError } from './errors';
import { REVIEW_PATH } from './review-link';
import { PAGE_FILES, pageFile, type PageFile } from './review-page';
import { ID_PARAM, route, type Route } from './route';

/**
 * The review page for people: a series' scenes and takes as video players, with buttons that
 * approve, reject or retry. Its script reads and acts through the JSON routes other services use
 * (GET /series/{id}, GET /series/{id}/takes, POST .../review and .../retry): one way in.
 */

export const reviewRoutes: Route[] = [
  route({
    method: 'GET',
    path: `${REVIEW_PATH}/{id}`,
    operationId: 'reviewPage',
    summary: "The series' review page (HTML): scenes, takes as video players, approve, reject, retry",
    description: `A page for a browser; it refreshes while the series runs. With a gateway token, open it once with ?${TOKEN_QUERY}=<token>: the answer is a redirect to the page without it that sets an HttpOnly SameSite=Strict cookie, which the page, its data and its videos are then allowed by.`,
    page: true,
    parameters: [
      {
        name: TOKEN_QUERY,
        in: 'query',
        description:
          "The gateway's token, once: answered 303 to the same page without it, with the session cookie (a wrong one is 401).",
      },
    ],
    responses: {
      200: { description: 'The page.', media: ['text/html'] },
      303: {
        description: 'The token was taken: the same page without it.',
        headers: {
          Location: 'the page without ?token=',
          'Set-Cookie': 'the session cookie (HttpOnly, SameSite=Strict)',
        },
      },
    },
    errors: [404],
    handle: async (ctx, req) => {
      await describeSeries(ctx.client, seriesIdOf(req.params[ID_PARAM])); // an unknown series is 404, not an empty page
      return pageFile('review.html');
    },
  }),
  route({
    method: 'GET',
    path: '/review-page/{file}',
    operationId: 'reviewPageFile',
    summary: "The review page's script and style sheet",
    responses: {
      200: { description: 'review.js or review.css.', media: ['text/javascript', 'text/css'] },
    },
    errors: [404],
    handle: async (_ctx, req) => {
      const file = req.params.file as PageFile;
      if (!PAGE_FILES.includes(file))
        throw new NotFoundError(`no page file ${req.params.file}; the review page has ${PAGE_FILES.join(', ')}`);
      return pageFile(file);
    },
  }),
];
