import {
  findShard,
  isFutureDated,
  isMatricError,
  listShards,
  loadShardOwner,
  MatricError,
  newestOwnShard,
  type ShardManifest,
  selectDestinations,
  shardOwnership,
} from '@matric-backup/core';
import type { FastifyInstance } from 'fastify';
import { onEachDestination } from '../../../destinations.js';
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
  app.post<{ Body: { destinations?: string[]; dry_run?: boolean; prune?: boolean } | undefined }>(
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
      const config = service.config;
      const owner = await loadShardOwner(config);
      const now = new Date();
      const outcomes = await onEachDestination(
        config,
        selectDestinations(config, request.query.destination),
        (opened) => listShards(opened),
      );
      const byId = new Map<
        string,
        ShardManifest & { owner: string; future: boolean; destinations: string[] }
      >();
      const listed = outcomes.map((outcome) => {
        const { name, type } = outcome.destination;
        if (!outcome.ok) return { name, type, error: describeApiError(outcome.error, service.redact).error };
        for (const manifest of outcome.value.complete) {
          const ownership = shardOwnership(manifest, owner);
          if (request.query.own && ownership !== 'own') continue;
          const entry = byId.get(manifest.id);
          if (entry) entry.destinations.push(name);
          else
            byId.set(manifest.id, {
              ...manifest,
              owner: ownership,
              future: isFutureDated(manifest.created_at, now),
              destinations: [name],
            });
        }
        return {
          name,
          type,
          shards: outcome.value.complete.length,
          incomplete: outcome.value.incomplete.map((shard) => ({ id: shard.id, reason: shard.reason })),
        };
      });
      const backups = [...byId.values()].sort(
        (a, b) => b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id),
      );
      return { success: true, data: { backups, total: backups.length, destinations: listed } };
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
      const config = service.config;
      const owner = await loadShardOwner(config);
      const latest = (complete: ShardManifest[]) => newestOwnShard(complete, owner, new Date()).newest;
      const outcomes = await onEachDestination(
        config,
        selectDestinations(config, request.query.destination),
        async (opened, destination) => {
          try {
            return await findShard(opened, request.params.id, { destination: destination.name, latest });
          } catch (error) {
            if (isMatricError(error) && error.code === 'SHARD_NOT_FOUND') return undefined;
            throw error;
          }
        },
      );
      // `latest` may differ between destinations: the newest found wins, and only its holders are named.
      const found = outcomes.flatMap((outcome) => (outcome.ok && outcome.value ? [outcome.value] : []));
      const manifest = found.sort((a, b) => b.created_at.localeCompare(a.created_at))[0];
      if (!manifest) {
        const failed = outcomes.find((outcome) => !outcome.ok);
        if (failed && !failed.ok) throw failed.error;
        throw new MatricError('SHARD_NOT_FOUND', `backup not found: ${request.params.id}`);
      }
      const destinations = outcomes.flatMap((outcome) =>
        outcome.ok && outcome.value?.id === manifest.id ? [outcome.destination.name] : [],
      );
      const unreadable = outcomes.flatMap((outcome) =>
        outcome.ok
          ? []
          : [
              {
                name: outcome.destination.name,
                error: describeApiError(outcome.error, service.redact).error,
              },
            ],
      );
      return {
        success: true,
        data: {
          ...manifest,
          owner: shardOwnership(manifest, owner),
          destinations,
          ...(unreadable.length > 0 && { unreadable }),
        },
      };
    },
  );

  app.delete<{ Params: IdParams; Querystring: { destination?: string[] } }>(
    '/api/v1/backups/:id',
    {
      schema: {
        summary: 'Delete a shard from every destination holding it (a job; never beside a backup)',
        params: idParams,
        querystring: destinationQuery,
        response: acceptedResponses,
      },
    },
    async (request, reply) =>
      accepted(reply, startDelete(service, request.caller, request.params.id, request.query.destination)),
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
