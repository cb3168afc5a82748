import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import type { Role } from '../config/config.js';
import { requireRole, type Caller } from './auth.js';
import { zodError } from './errors.js';

type Method = 'get' | 'post' | 'delete';

export interface RouteSpec<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType> {
  method: Method;
  path: string;
  summary: string;
  /** Who may call it; `public` routes carry no API key (health, link pages). */
  roles: Role[] | 'public';
  body?: B;
  query?: Q;
  params?: P;
  /** Status of a successful JSON answer (default 200). */
  status?: number;
  responses: Record<number, string>;
  tag: string;
  /** Also accept the codec session cookie instead of a bearer key (the Web UI's codec calls). */
  codecSession?: boolean;
}

export interface RouteContext<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  caller: Caller;
  req: Request;
  res: Response;
}

/**
 * Declares routes once: validation (handlers get parsed values and never re-parse), role checks,
 * and the OpenAPI description all come from the same spec.
 */
export class ApiRoutes {
  readonly specs: RouteSpec<z.ZodType, z.ZodType, z.ZodType>[] = [];

  constructor(
    private readonly router: Router,
    private readonly authenticate: (key: string) => Caller | null,
    private readonly sessionCaller?: (req: Request) => Caller | null,
  ) {}

  add<
    B extends z.ZodType = z.ZodUnknown,
    Q extends z.ZodType = z.ZodUnknown,
    P extends z.ZodType = z.ZodUnknown,
  >(
    spec: RouteSpec<B, Q, P>,
    handler: (context: RouteContext<z.output<B>, z.output<Q>, z.output<P>>) => unknown,
  ): void {
    this.specs.push(spec as unknown as RouteSpec<z.ZodType, z.ZodType, z.ZodType>);
    const guards =
      spec.roles === 'public'
        ? []
        : [requireRole(this.authenticate, spec.roles, spec.codecSession ? this.sessionCaller : undefined)];
    this.router[spec.method](spec.path, ...guards, async (req: Request, res: Response) => {
      const parse = <S extends z.ZodType | undefined>(schema: S, value: unknown, where: string) => {
        if (!schema) return value;
        const result = schema.safeParse(value);
        if (!result.success) throw zodError(result.error, where);
        return result.data;
      };
      const context = {
        body: parse(spec.body, req.body ?? {}, 'body'),
        query: parse(spec.query, req.query, 'query'),
        params: parse(spec.params, req.params, 'path'),
        caller: res.locals.caller as Caller,
        req,
        res,
      } as RouteContext<z.output<B>, z.output<Q>, z.output<P>>;
      const result = await handler(context);
      if (result !== undefined && !res.headersSent) res.status(spec.status ?? 200).json(result);
    });
  }
}

function jsonSchema(schema: z.ZodType) {
  return z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' });
}

const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
    },
  },
};

/** The OpenAPI 3 document for every declared route, generated from their zod schemas. */
export function openApiDocument(specs: ApiRoutes['specs'], publicUrl: string, version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of specs) {
    const path = spec.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters = [
      ...[...spec.path.matchAll(/:([A-Za-z]+)/g)].map((match) => ({
        name: match[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      })),
      ...Object.entries(
        (spec.query
          ? (jsonSchema(spec.query) as { properties?: Record<string, unknown> }).properties
          : undefined) ?? {},
      ).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
    ];
    paths[path] ??= {};
    paths[path]![spec.method] = {
      summary: spec.summary,
      tags: [spec.tag],
      ...(spec.roles === 'public' ? { security: [] } : { description: `Roles: ${spec.roles.join(', ')}` }),
      ...(parameters.length ? { parameters } : {}),
      ...(spec.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(spec.body) } },
            },
          }
        : {}),
      responses: Object.fromEntries(
        Object.entries(spec.responses).map(([status, description]) => [
          status,
          Number(status) >= 400
            ? {
                description,
                content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
              }
            : { description },
        ]),
      ),
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'MSP runbooks API', version },
    servers: [{ url: publicUrl }],
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: errorSchema },
    },
    security: [{ apiKey: [] }],
    paths,
  };
}
