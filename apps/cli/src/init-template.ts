/**
 * What `matric-backup init` writes: a working config (one folder to one local
 * destination) with every other key shown, commented out, next to what it does.
 */
export const INIT_TEMPLATE = `# matric-backup configuration. Reference: docs/configuration.md
# Relative paths are resolved against the folder of this file.
# \${VAR} and \${VAR:-default} are replaced from the environment.

backup:
  # What goes into each shard. Each source becomes a folder of that name in the archive.
  sources:
    - name: data
      type: directory
      path: ./data
      # include: ["**/*.md"]          # only these (globs relative to path)
      # exclude: ["**/*.tmp", "cache/**"]
    # A command whose stdout is stored as <name>/<filename>; a non-zero exit fails the run.
    # - name: db
    #   type: command
    #   command: ["pg_dump", "--format=custom", "mydb"]
    #   filename: mydb.dump
    #   timeout: 2h                      # stop it and fail the run if it hangs

  # Where each shard is stored. Every enabled destination gets the same shard.
  destinations:
    - name: local
      type: local
      path: ./backups              # better: a disk other than the one you back up
      # required: true             # false: a failure is a warning, not a failed run
      # retention: {keep_last: 7}  # overrides backup.retention for this destination

    # - name: offsite
    #   type: s3
    #   bucket: my-backups
    #   region: eu-central-1
    #   prefix: server1/
    #   access_key_id: \${AWS_ACCESS_KEY_ID}
    #   secret_access_key_file: /etc/matric-backup/s3.secret   # or secret_access_key_command: [...]

    # - name: nas
    #   type: sftp                 # or rsync
    #   host: nas.local
    #   username: backup
    #   ssh_key: /root/.ssh/backup_key   # host key checking: see docs/configuration.md
    #   path: /backups/server1
    #   required: false

  compression:
    algorithm: zstd                # zstd | gzip | none
    level: 3                       # 1-19 for zstd, 1-9 for gzip

  # encryption:
  #   enabled: true
  #   method: age
  #   recipients: ["age1..."]
  #   identity_file: /etc/matric-backup/age.key   # needed by verify and restore

  # retention:                     # applied to each destination after a successful run
  #   keep_last: 3
  #   keep_daily: 7
  #   keep_weekly: 4
  #   keep_monthly: 12
  #   keep_yearly: 3
  #   min_backups: 3
  #   max_total_size_gb: 100

  # retry:                         # per destination upload
  #   max_retries: 3
  #   initial_delay: 1s
  #   max_delay: 60s
  #   backoff_factor: 2

  # schedule:                      # run by matric-backup serve, or a timer from matric-backup systemd
  #   full_backup: daily            # hourly | daily | weekly; or cron: "0 2 * * *"; or interval: 24h
  #   time: "02:00"
  #   random_delay: 10m

  # notifications:
  #   on_failure: true
  #   webhook_url: https://hooks.example.com/backup

  # state_dir: /var/lib/matric-backup   # lock, run history, spool
  # spool_dir: /var/tmp/matric-backup   # where the shard is built before upload
  # id_prefix: backup                   # shard ids look like backup_20250131_020004
  # source_instance: server1            # default: the host name
`;
