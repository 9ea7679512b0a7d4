import { MatricError } from '@matric-backup/core';
import type { FastifyInstance } from 'fastify';
import { shardInfo } from '../../../operations/info.js';
import { type ListedShard, listBackups } from '../../../operations/list.js';
import type { Service } from '../../service.js';
import { startBackup } from '../../work/backup.js';
import { startDelete } from '../../work/delete.js';
import { startRestore } from '../../work/restore.js';
import { startValidate } from '../../work/validate.js';
import { describeApiError } from '../errors.js';
import { accepted } from '../reply.js';
import {
  acceptedResponses,
  createBody,
  deleteQuery,
  destinationQuery,
  destinationsBody,
  idParams,
  listQuery,
  okResponses,
  restoreBody,
} from '../schemas.js';

interface IdParams {
  id: string;
}

/** The shards: list, one, and the long operations on them (jobs). */
export function backupRoutes(app: FastifyInstance, service: Service): void {
  app.post<{
    Body:
      | { destinations?: string[]; dry_run?: boolean; prune?: boolean; type?: 'full' | 'incremental' }
      | undefined;
  }>(
    '/api/v1/backups',
    {
      schema: {
        summary: 'Start a backup run (one at a time: 409 BUSY while one runs)',
        body: createBody,
        response: acceptedResponses,
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      const job = startBackup(service, request.caller, {
        ...(body.destinations && { destinations: body.destinations }),
        ...(body.dry_run !== undefined && { dryRun: body.dry_run }),
        ...(body.prune !== undefined && { prune: body.prune }),
        ...(body.type !== undefined && { type: body.type }),
      });
      return accepted(reply, job);
    },
  );

  app.get<{ Querystring: { destination?: string[]; own?: boolean } }>(
    '/api/v1/backups',
    {
      schema: {
        summary: 'Every complete shard on the destinations, newest first, with where each is stored',
        querystring: listQuery,
        response: okResponses,
      },
    },
    async (request) => {
      const listings = await listBackups(service.config, {
        ...(request.query.destination && { destinations: request.query.destination }),
        own: request.query.own === true,
      });
      // One entry per shard, naming every destination that holds it.
      const byId = new Map<string, ListedShard & { destinations: string[] }>();
      for (const listing of listings) {
        for (const shard of listing.complete) {
          const entry = byId.get(shard.id);
          if (entry) entry.destinations.push(listing.name);
          else byId.set(shard.id, { ...shard, destinations: [listing.name] });
        }
      }
      const backups = [...byId.values()].sort(
        (a, b) => b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id),
      );
      const destinations = listings.map(({ name, type, complete, incomplete, error }) => ({
        name,
        type,
        ...(error === undefined
          ? { shards: complete.length, incomplete }
          : { error: describeApiError(error, service.redact).error }),
      }));
      return { success: true, data: { backups, total: backups.length, destinations } };
    },
  );

  app.get<{ Params: IdParams; Querystring: { destination?: string[] } }>(
    '/api/v1/backups/:id',
    {
      schema: {
        summary: "One shard's manifest and the destinations holding it (`latest`: this config's newest)",
        params: idParams,
        querystring: destinationQuery,
        response: okResponses,
      },
    },
    async (request) => {
      const info = await shardInfo(service.config, request.params.id, {
        ...(request.query.destination && { destinations: request.query.destination }),
      });
      if (!info.manifest) {
        // Not found where it could be looked for; a destination that could not be read says why.
        if (info.failures[0]) throw info.failures[0].error;
        throw new MatricError('SHARD_NOT_FOUND', `backup not found: ${request.params.id}`);
      }
      return {
        success: true,
        data: {
          ...info.manifest,
          destinations: info.locations.map((location) => location.destination),
          locations: info.locations,
          ...(info.failures.length > 0 && {
            unreadable: info.failures.map(({ destination, error }) => ({
              destination,
              error: describeApiError(error, service.redact).error,
            })),
          }),
        },
      };
    },
  );

  app.delete<{ Params: IdParams; Querystring: { destination?: string[]; with_dependents?: boolean } }>(
    '/api/v1/backups/:id',
    {
      schema: {
        summary: 'Delete a shard from every destination holding it (a job; never beside a backup)',
        params: idParams,
        querystring: deleteQuery,
        response: acceptedResponses,
      },
    },
    async (request, reply) =>
      accepted(
        reply,
        await startDelete(service, request.caller, request.params.id, {
          ...(request.query.destination && { destinations: request.query.destination }),
          withDependents: request.query.with_dependents === true,
        }),
      ),
  );

  app.post<{ Params: IdParams; Body: { destinations?: string[] } | undefined }>(
    '/api/v1/backups/:id/validate',
    {
      schema: {
        summary: 'Re-read a shard on every destination holding it and check every file (a job)',
        params: idParams,
        body: destinationsBody,
        response: acceptedResponses,
      },
    },
    async (request, reply) =>
      accepted(reply, startValidate(service, request.caller, request.params.id, request.body?.destinations)),
  );

  app.post<{
    Params: IdParams;
    Body: {
      to: string;
      conflict?: 'skip_existing' | 'overwrite' | 'merge' | 'rename_new';
      include?: string[];
      dry_run?: boolean;
      destinations?: string[];
    };
  }>(
    '/api/v1/backups/:id/restore',
    {
      schema: {
        summary: 'Restore a shard into a folder inside backup.api.restore_roots (a job)',
        params: idParams,
        body: restoreBody,
        response: acceptedResponses,
      },
    },
    async (request, reply) => {
      const { to, conflict, include, dry_run, destinations } = request.body;
      const job = await startRestore(service, request.caller, {
        id: request.params.id,
        to,
        ...(conflict && { conflict }),
        ...(include && { include }),
        ...(dry_run !== undefined && { dryRun: dry_run }),
        ...(destinations && { destinations }),
      });
      return accepted(reply, job);
    },
  );
}
