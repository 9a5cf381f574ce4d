# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_daraa_ops_global_optspecs
    string join \n config= output= log-format= q/quiet v/verbose no-progress yes h/help V/version
end

function __fish_daraa_ops_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_daraa_ops_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_daraa_ops_using_subcommand
    set -l cmd (__fish_daraa_ops_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -f -a "config" -d 'Validate or print the resolved configuration'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -f -a "backup" -d 'Dump the database into a backup (.tar.gz, which mongorestore reads once extracted; .tar.zst with backup.compression: zstd; with backup.format: archive mongodump\'s archive format), upload it, apply retention'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -f -a "list" -d 'List backups (local and S3): id, size, documents, where, status (verified, drilled), label'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -f -a "describe" -d 'Show one backup: collections, documents, bytes, checksums, format, encryption, timings, where it is stored, and when it was last verified and drilled'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -f -a "delete" -d 'Delete one backup (archive, sidecar, checks) from every storage that holds it'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -f -a "verify" -d 'Re-read an archive and check every checksum, count and BSON document (exit 6 if bad)'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -f -a "import" -d 'Make a backup daraa-ops did not write (mongodump --archive, a --out folder, a tar of one) into a daraa-ops backup: verified, manifest, sidecar, upload, retention'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -f -a "prune" -d 'Apply retention to the local directory and S3'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -f -a "rekey" -d 'Re-encrypt backups for the configured age recipients (key rotation), in place'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -f -a "restore" -d 'Restore a backup (local, S3 or a path); live collections are replaced only once the new data is complete and verified'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -f -a "drill" -d 'Restore into a scratch database, compare with the manifest, drop it (exit 0 or 6)'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -f -a "users" -d 'Create or update the config\'s users and roles, check them for drift, list users'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -f -a "indexes" -d 'Compare live indexes with the spec file, apply it, or export one from a database'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -f -a "cleanup" -d 'Delete, or archive then delete, old documents by the config\'s cleanup rules'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -f -a "stats" -d 'Server, database, collection, index and Redis statistics, for people, JSON or Prometheus'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -f -a "cron" -d 'Crontab lines from the config\'s schedule: print, install or remove them'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -f -a "lock" -d 'Inspect or release the job lock (one backup, restore or cleanup at a time)'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -f -a "mask" -d 'Check that the masking rules cover every field holding personal data'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -f -a "pitr" -d 'Continuous oplog archiving for restores to a point in time (docs/pitr.md)'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -f -a "man" -d 'Write man pages (one per command) into a folder'
complete -c daraa-ops -n "__fish_daraa_ops_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and not __fish_seen_subcommand_from check show help" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and not __fish_seen_subcommand_from check show help" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and not __fish_seen_subcommand_from check show help" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and not __fish_seen_subcommand_from check show help" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and not __fish_seen_subcommand_from check show help" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and not __fish_seen_subcommand_from check show help" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and not __fish_seen_subcommand_from check show help" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and not __fish_seen_subcommand_from check show help" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and not __fish_seen_subcommand_from check show help" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and not __fish_seen_subcommand_from check show help" -f -a "check" -d 'Validate the configuration and read every secret file; exit 2 naming what is wrong'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and not __fish_seen_subcommand_from check show help" -f -a "show" -d 'Print the resolved configuration (file, then environment), secrets redacted'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and not __fish_seen_subcommand_from check show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and __fish_seen_subcommand_from check" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and __fish_seen_subcommand_from check" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and __fish_seen_subcommand_from check" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and __fish_seen_subcommand_from check" -l connect -d 'Also connect to MongoDB, Redis and S3 with the configured credentials (exit 3 on failure)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and __fish_seen_subcommand_from check" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and __fish_seen_subcommand_from check" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and __fish_seen_subcommand_from check" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and __fish_seen_subcommand_from show" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and __fish_seen_subcommand_from show" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and __fish_seen_subcommand_from show" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and __fish_seen_subcommand_from show" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and __fish_seen_subcommand_from show" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "check" -d 'Validate the configuration and read every secret file; exit 2 naming what is wrong'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print the resolved configuration (file, then environment), secrets redacted'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand backup" -l label -d 'Free text stored in the manifest (e.g. "before-migration-42")' -r
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand backup" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand backup" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand backup" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand backup" -l no-upload -d 'Keep the archive local only, even when S3 is configured'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand backup" -l no-prune -d 'Do not apply retention after the backup'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand backup" -l dry-run -d 'List what would be backed up; write nothing'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand backup" -l stdout -d 'Stream the backup to standard output in mongodump\'s archive format (gzip), for pipes (`… | aws s3 cp - s3://…`); nothing is written locally. Standard output is the archive: the report, and with --output json the JSON summary, go to stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand backup" -l no-oplog -d 'Take no oplog: the collections are restored as dumped, one after the other, and the backup is not point-in-time (backup.oplog)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand backup" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand backup" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand backup" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand backup" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand backup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand backup" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand list" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand list" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand list" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand list" -l local -d 'Only the local backup directory'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand list" -l remote -d 'Only S3'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand list" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand list" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand list" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand list" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand list" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand list" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand describe" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand describe" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand describe" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand describe" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand describe" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand describe" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand describe" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand describe" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand describe" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand delete" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand delete" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand delete" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand delete" -l force -d 'Also delete the newest complete backup'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand delete" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand delete" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand delete" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand delete" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand delete" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand verify" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand verify" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand verify" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand verify" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand verify" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand verify" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand verify" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand verify" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand verify" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand import" -l time -d 'When the backup was taken, in UTC: 2026-11-28, 2026-11-28T03:00:00 or RFC 3339' -r
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand import" -l label -d 'Free text stored in the manifest' -r
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand import" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand import" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand import" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand import" -l allow-future -d 'Accept a --time later than now (a clock you trust more than this host\'s)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand import" -l no-upload -d 'Keep the imported backup local only, even when S3 is configured'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand import" -l no-prune -d 'Do not apply retention after the import'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand import" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand import" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand import" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand import" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand import" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand prune" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand prune" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand prune" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand prune" -l dry-run -d 'Show what retention would delete; delete nothing'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand prune" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand prune" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand prune" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand prune" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand prune" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand prune" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand rekey" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand rekey" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand rekey" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand rekey" -l dry-run -d 'Show which backups would be re-encrypted; change nothing'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand rekey" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand rekey" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand rekey" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand rekey" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand rekey" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand rekey" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand restore" -l to-time -d 'Restore the database as it was at this time (RFC 3339, or an oplog timestamp T,I): the newest backup ending before it, then the oplog archived by `pitr push` up to it' -r
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand restore" -l target-db -d 'Restore into this database instead of the configured one' -r
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand restore" -l collections -d 'Only these collections (comma-separated)' -r
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand restore" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand restore" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand restore" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand restore" -l drop -d 'Replace collections that exist and are not empty (asks on a terminal unless --yes)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand restore" -l dry-run -d 'Show what would be restored and what exists in the target; change nothing'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand restore" -l no-cache-invalidation -d 'Do not delete the application\'s Redis cache keys after restoring the live database'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand restore" -l force-protected -d 'Write into a database listed in restore.protected_databases (the only way in; --yes does not do it)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand restore" -l mask -d 'Apply the config\'s masking rules while restoring (never into the live or a protected database; required for masking.staging_databases)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand restore" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand restore" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand restore" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand restore" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand restore" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand restore" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand drill" -l to-time -d 'Drill a restore to this time (RFC 3339, or T,I): the newest backup ending before it, then the oplog archived by `pitr push` up to it; `random`: a random point of the newest restorable window (`pitr status`)' -r
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand drill" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand drill" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand drill" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand drill" -l mask -d 'Apply the config\'s masking rules while restoring into the scratch database'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand drill" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand drill" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand drill" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand drill" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand drill" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand drill" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and not __fish_seen_subcommand_from provision check list help" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and not __fish_seen_subcommand_from provision check list help" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and not __fish_seen_subcommand_from provision check list help" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and not __fish_seen_subcommand_from provision check list help" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and not __fish_seen_subcommand_from provision check list help" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and not __fish_seen_subcommand_from provision check list help" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and not __fish_seen_subcommand_from provision check list help" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and not __fish_seen_subcommand_from provision check list help" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and not __fish_seen_subcommand_from provision check list help" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and not __fish_seen_subcommand_from provision check list help" -f -a "provision" -d 'Create missing users and roles, fix role drift, set passwords from secrets files'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and not __fish_seen_subcommand_from provision check list help" -f -a "check" -d 'Compare live users and roles (and passwords, where the server shows credentials) with the config; exit 6 listing each difference'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and not __fish_seen_subcommand_from provision check list help" -f -a "list" -d 'Users of every database: auth database, roles, mechanisms'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and not __fish_seen_subcommand_from provision check list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from provision" -l update-passwords -d 'When to set the password of a user that exists: on-create (never), always, or if-drift (the secrets file no longer matches the stored SCRAM-SHA-256 credentials)' -r -f -a "on-create\t'Only when the user is created'
always\t'On every run'
if-drift\t'When the stored SCRAM-SHA-256 credentials do not match the secrets file'"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from provision" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from provision" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from provision" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from provision" -l dry-run -d 'Print the plan; change nothing'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from provision" -l generate-missing -d 'Create a missing secrets file with a random password (mode 0600; never printed)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from provision" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from provision" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from provision" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from provision" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from provision" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from provision" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from check" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from check" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from check" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from check" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from check" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from check" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from list" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from list" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from list" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from list" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from list" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from help" -f -a "provision" -d 'Create missing users and roles, fix role drift, set passwords from secrets files'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from help" -f -a "check" -d 'Compare live users and roles (and passwords, where the server shows credentials) with the config; exit 6 listing each difference'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from help" -f -a "list" -d 'Users of every database: auth database, roles, mechanisms'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand users; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and not __fish_seen_subcommand_from validate apply export help" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and not __fish_seen_subcommand_from validate apply export help" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and not __fish_seen_subcommand_from validate apply export help" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and not __fish_seen_subcommand_from validate apply export help" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and not __fish_seen_subcommand_from validate apply export help" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and not __fish_seen_subcommand_from validate apply export help" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and not __fish_seen_subcommand_from validate apply export help" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and not __fish_seen_subcommand_from validate apply export help" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and not __fish_seen_subcommand_from validate apply export help" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and not __fish_seen_subcommand_from validate apply export help" -f -a "validate" -d 'Per collection and index: ok, missing, extra or different (exit 0 or 6)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and not __fish_seen_subcommand_from validate apply export help" -f -a "apply" -d 'Create missing indexes, change TTLs in place; optionally drop extras and rebuild indexes whose options differ'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and not __fish_seen_subcommand_from validate apply export help" -f -a "export" -d 'Write the live indexes of the database as a spec file'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and not __fish_seen_subcommand_from validate apply export help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from validate" -l spec -d 'Index spec file [default: indexes.spec from the config]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from validate" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from validate" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from validate" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from validate" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from validate" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from validate" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from validate" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from validate" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from validate" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from apply" -l spec -d 'Index spec file [default: indexes.spec from the config]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from apply" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from apply" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from apply" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from apply" -l dry-run -d 'Print the plan; change nothing'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from apply" -l drop-extra -d 'Also drop live indexes the spec does not declare (never _id_)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from apply" -l rebuild -d 'Drop and recreate indexes whose options differ (asks for confirmation unless --yes)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from apply" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from apply" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from apply" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from apply" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from apply" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from apply" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from export" -l out -d 'Write the spec here (atomically) instead of stdout' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from export" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from export" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from export" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from export" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from export" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from export" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from export" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from export" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from help" -f -a "validate" -d 'Per collection and index: ok, missing, extra or different (exit 0 or 6)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from help" -f -a "apply" -d 'Create missing indexes, change TTLs in place; optionally drop extras and rebuild indexes whose options differ'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from help" -f -a "export" -d 'Write the live indexes of the database as a spec file'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand indexes; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cleanup" -l rule -d 'Only this rule (repeat for several) [default: every rule, in config order]' -r
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cleanup" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cleanup" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cleanup" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cleanup" -l dry-run -d 'Count what each rule would remove and show the first _ids; change nothing'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cleanup" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cleanup" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cleanup" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cleanup" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cleanup" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cleanup" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand stats" -l format -d 'Output format (with --output json, the JSON summary holds the same data)' -r -f -a "table\t''
json\t''
prometheus\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand stats" -l out -d 'Write the output to this file atomically (e.g. node_exporter\'s textfile folder)' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand stats" -l history -d 'Append this run to a JSON Lines history file and report growth since its last entry' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand stats" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand stats" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand stats" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand stats" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand stats" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand stats" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand stats" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand stats" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand stats" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and not __fish_seen_subcommand_from print install remove help" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and not __fish_seen_subcommand_from print install remove help" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and not __fish_seen_subcommand_from print install remove help" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and not __fish_seen_subcommand_from print install remove help" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and not __fish_seen_subcommand_from print install remove help" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and not __fish_seen_subcommand_from print install remove help" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and not __fish_seen_subcommand_from print install remove help" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and not __fish_seen_subcommand_from print install remove help" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and not __fish_seen_subcommand_from print install remove help" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and not __fish_seen_subcommand_from print install remove help" -f -a "print" -d 'Print the crontab lines for the config\'s schedule'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and not __fish_seen_subcommand_from print install remove help" -f -a "install" -d 'Put the lines in the user\'s crontab (between # BEGIN/# END daraa-ops), idempotently'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and not __fish_seen_subcommand_from print install remove help" -f -a "remove" -d 'Take the daraa-ops lines out again'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and not __fish_seen_subcommand_from print install remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from print" -l log-dir -d 'Folder for the jobs\' log files (<job>.log), created by install' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from print" -l bin -d 'The daraa-ops binary cron runs [default: this binary]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from print" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from print" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from print" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from print" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from print" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from print" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from print" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from print" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from print" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from install" -l log-dir -d 'Folder for the jobs\' log files (<job>.log), created by install' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from install" -l bin -d 'The daraa-ops binary cron runs [default: this binary]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from install" -l crontab-file -d 'Edit this crontab file instead of the user\'s crontab (crontab -l / crontab -)' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from install" -l cron-d -d 'Write (or remove) a system cron file instead [default path: /etc/cron.d/daraa-ops]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from install" -l user -d 'User the jobs run as, for --cron-d [default: the current user]' -r
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from install" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from install" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from install" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from install" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from install" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from install" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from install" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from install" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from install" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from remove" -l crontab-file -d 'Edit this crontab file instead of the user\'s crontab (crontab -l / crontab -)' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from remove" -l cron-d -d 'Write (or remove) a system cron file instead [default path: /etc/cron.d/daraa-ops]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from remove" -l user -d 'User the jobs run as, for --cron-d [default: the current user]' -r
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from remove" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from remove" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from remove" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from remove" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from remove" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from help" -f -a "print" -d 'Print the crontab lines for the config\'s schedule'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from help" -f -a "install" -d 'Put the lines in the user\'s crontab (between # BEGIN/# END daraa-ops), idempotently'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Take the daraa-ops lines out again'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand cron; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and not __fish_seen_subcommand_from status release help" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and not __fish_seen_subcommand_from status release help" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and not __fish_seen_subcommand_from status release help" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and not __fish_seen_subcommand_from status release help" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and not __fish_seen_subcommand_from status release help" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and not __fish_seen_subcommand_from status release help" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and not __fish_seen_subcommand_from status release help" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and not __fish_seen_subcommand_from status release help" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and not __fish_seen_subcommand_from status release help" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and not __fish_seen_subcommand_from status release help" -f -a "status" -d 'Show who holds each lock of the configured database (main, drill and pitr push; file and Redis)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and not __fish_seen_subcommand_from status release help" -f -a "release" -d 'Remove the lock of a run that crashed'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and not __fish_seen_subcommand_from status release help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and __fish_seen_subcommand_from status" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and __fish_seen_subcommand_from status" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and __fish_seen_subcommand_from status" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and __fish_seen_subcommand_from status" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and __fish_seen_subcommand_from status" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and __fish_seen_subcommand_from status" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and __fish_seen_subcommand_from release" -l name -d 'Only this lock (as `lock status` names it, e.g. daraa or daraa_drill) [default: all]' -r
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and __fish_seen_subcommand_from release" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and __fish_seen_subcommand_from release" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and __fish_seen_subcommand_from release" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and __fish_seen_subcommand_from release" -l force -d 'Required: releasing a lock another run holds lets two jobs overlap. A Redis lock whose holder is alive on this host needs it twice (--force --force)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and __fish_seen_subcommand_from release" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and __fish_seen_subcommand_from release" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and __fish_seen_subcommand_from release" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and __fish_seen_subcommand_from release" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and __fish_seen_subcommand_from release" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and __fish_seen_subcommand_from release" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show who holds each lock of the configured database (main, drill and pitr push; file and Redis)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and __fish_seen_subcommand_from help" -f -a "release" -d 'Remove the lock of a run that crashed'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand lock; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and not __fish_seen_subcommand_from check help" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and not __fish_seen_subcommand_from check help" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and not __fish_seen_subcommand_from check help" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and not __fish_seen_subcommand_from check help" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and not __fish_seen_subcommand_from check help" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and not __fish_seen_subcommand_from check help" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and not __fish_seen_subcommand_from check help" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and not __fish_seen_subcommand_from check help" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and not __fish_seen_subcommand_from check help" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and not __fish_seen_subcommand_from check help" -f -a "check" -d 'Sample every collection and list fields that look like personal data without a masking rule (exit 6 if any)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and not __fish_seen_subcommand_from check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and __fish_seen_subcommand_from check" -l backup -d 'Sample a backup (id, `latest` or a path) instead of the live database' -r
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and __fish_seen_subcommand_from check" -l sample -d 'Documents sampled per collection' -r
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and __fish_seen_subcommand_from check" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and __fish_seen_subcommand_from check" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and __fish_seen_subcommand_from check" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and __fish_seen_subcommand_from check" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and __fish_seen_subcommand_from check" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and __fish_seen_subcommand_from check" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and __fish_seen_subcommand_from help" -f -a "check" -d 'Sample every collection and list fields that look like personal data without a masking rule (exit 6 if any)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand mask; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and not __fish_seen_subcommand_from push status help" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and not __fish_seen_subcommand_from push status help" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and not __fish_seen_subcommand_from push status help" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and not __fish_seen_subcommand_from push status help" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and not __fish_seen_subcommand_from push status help" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and not __fish_seen_subcommand_from push status help" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and not __fish_seen_subcommand_from push status help" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and not __fish_seen_subcommand_from push status help" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and not __fish_seen_subcommand_from push status help" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and not __fish_seen_subcommand_from push status help" -f -a "push" -d 'Archive the oplog entries of the configured database since the last chunk, as chunks beside the backups in every storage; runs until SIGTERM unless --once. Exit 6 when the oplog no longer reached back to the last chunk (a gap, recorded)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and not __fish_seen_subcommand_from push status help" -f -a "status" -d 'Show what can be restored to a point in time: per storage the windows (from a base backup\'s end to where its chain of chunks reaches), the chunks, the gaps; the newest archived entry and its lag'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and not __fish_seen_subcommand_from push status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and __fish_seen_subcommand_from push" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and __fish_seen_subcommand_from push" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and __fish_seen_subcommand_from push" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and __fish_seen_subcommand_from push" -l once -d 'Archive what is there and exit (from cron); without it, push every pitr.span_seconds'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and __fish_seen_subcommand_from push" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and __fish_seen_subcommand_from push" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and __fish_seen_subcommand_from push" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and __fish_seen_subcommand_from push" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and __fish_seen_subcommand_from push" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and __fish_seen_subcommand_from push" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and __fish_seen_subcommand_from status" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and __fish_seen_subcommand_from status" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and __fish_seen_subcommand_from status" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and __fish_seen_subcommand_from status" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and __fish_seen_subcommand_from status" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and __fish_seen_subcommand_from status" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and __fish_seen_subcommand_from help" -f -a "push" -d 'Archive the oplog entries of the configured database since the last chunk, as chunks beside the backups in every storage; runs until SIGTERM unless --once. Exit 6 when the oplog no longer reached back to the last chunk (a gap, recorded)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show what can be restored to a point in time: per storage the windows (from a base backup\'s end to where its chain of chunks reaches), the chunks, the gaps; the newest archived entry and its lag'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand pitr; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand completions" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand completions" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand completions" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand completions" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand completions" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand completions" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand completions" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand completions" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand completions" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand man" -l out-dir -d 'Folder to write `daraa-ops.1` and `daraa-ops-<command>.1` into (created if missing)' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand man" -l config -d 'Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]' -r -F
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand man" -l output -d 'Output for people (text) or one JSON object on stdout when the command ends (json)' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand man" -l log-format -d 'Log line format on stderr' -r -f -a "text\t''
json\t''"
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand man" -s q -l quiet -d 'Only errors on stderr'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand man" -s v -l verbose -d 'More log detail (-v debug, -vv trace)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand man" -l no-progress -d 'Never draw progress bars (they are also hidden when stderr is not a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand man" -l yes -d 'Answer yes to confirmation prompts (needed for destructive actions without a terminal)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand man" -s h -l help -d 'Print help'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand man" -s V -l version -d 'Print version'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and not __fish_seen_subcommand_from config backup list describe delete verify import prune rekey restore drill users indexes cleanup stats cron lock mask pitr completions man help" -f -a "config" -d 'Validate or print the resolved configuration'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and not __fish_seen_subcommand_from config backup list describe delete verify import prune rekey restore drill users indexes cleanup stats cron lock mask pitr completions man help" -f -a "backup" -d 'Dump the database into a backup (.tar.gz, which mongorestore reads once extracted; .tar.zst with backup.compression: zstd; with backup.format: archive mongodump\'s archive format), upload it, apply retention'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and not __fish_seen_subcommand_from config backup list describe delete verify import prune rekey restore drill users indexes cleanup stats cron lock mask pitr completions man help" -f -a "list" -d 'List backups (local and S3): id, size, documents, where, status (verified, drilled), label'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and not __fish_seen_subcommand_from config backup list describe delete verify import prune rekey restore drill users indexes cleanup stats cron lock mask pitr completions man help" -f -a "describe" -d 'Show one backup: collections, documents, bytes, checksums, format, encryption, timings, where it is stored, and when it was last verified and drilled'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and not __fish_seen_subcommand_from config backup list describe delete verify import prune rekey restore drill users indexes cleanup stats cron lock mask pitr completions man help" -f -a "delete" -d 'Delete one backup (archive, sidecar, checks) from every storage that holds it'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and not __fish_seen_subcommand_from config backup list describe delete verify import prune rekey restore drill users indexes cleanup stats cron lock mask pitr completions man help" -f -a "verify" -d 'Re-read an archive and check every checksum, count and BSON document (exit 6 if bad)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and not __fish_seen_subcommand_from config backup list describe delete verify import prune rekey restore drill users indexes cleanup stats cron lock mask pitr completions man help" -f -a "import" -d 'Make a backup daraa-ops did not write (mongodump --archive, a --out folder, a tar of one) into a daraa-ops backup: verified, manifest, sidecar, upload, retention'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and not __fish_seen_subcommand_from config backup list describe delete verify import prune rekey restore drill users indexes cleanup stats cron lock mask pitr completions man help" -f -a "prune" -d 'Apply retention to the local directory and S3'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and not __fish_seen_subcommand_from config backup list describe delete verify import prune rekey restore drill users indexes cleanup stats cron lock mask pitr completions man help" -f -a "rekey" -d 'Re-encrypt backups for the configured age recipients (key rotation), in place'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and not __fish_seen_subcommand_from config backup list describe delete verify import prune rekey restore drill users indexes cleanup stats cron lock mask pitr completions man help" -f -a "restore" -d 'Restore a backup (local, S3 or a path); live collections are replaced only once the new data is complete and verified'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and not __fish_seen_subcommand_from config backup list describe delete verify import prune rekey restore drill users indexes cleanup stats cron lock mask pitr completions man help" -f -a "drill" -d 'Restore into a scratch database, compare with the manifest, drop it (exit 0 or 6)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and not __fish_seen_subcommand_from config backup list describe delete verify import prune rekey restore drill users indexes cleanup stats cron lock mask pitr completions man help" -f -a "users" -d 'Create or update the config\'s users and roles, check them for drift, list users'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and not __fish_seen_subcommand_from config backup list describe delete verify import prune rekey restore drill users indexes cleanup stats cron lock mask pitr completions man help" -f -a "indexes" -d 'Compare live indexes with the spec file, apply it, or export one from a database'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and not __fish_seen_subcommand_from config backup list describe delete verify import prune rekey restore drill users indexes cleanup stats cron lock mask pitr completions man help" -f -a "cleanup" -d 'Delete, or archive then delete, old documents by the config\'s cleanup rules'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and not __fish_seen_subcommand_from config backup list describe delete verify import prune rekey restore drill users indexes cleanup stats cron lock mask pitr completions man help" -f -a "stats" -d 'Server, database, collection, index and Redis statistics, for people, JSON or Prometheus'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and not __fish_seen_subcommand_from config backup list describe delete verify import prune rekey restore drill users indexes cleanup stats cron lock mask pitr completions man help" -f -a "cron" -d 'Crontab lines from the config\'s schedule: print, install or remove them'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and not __fish_seen_subcommand_from config backup list describe delete verify import prune rekey restore drill users indexes cleanup stats cron lock mask pitr completions man help" -f -a "lock" -d 'Inspect or release the job lock (one backup, restore or cleanup at a time)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and not __fish_seen_subcommand_from config backup list describe delete verify import prune rekey restore drill users indexes cleanup stats cron lock mask pitr completions man help" -f -a "mask" -d 'Check that the masking rules cover every field holding personal data'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and not __fish_seen_subcommand_from config backup list describe delete verify import prune rekey restore drill users indexes cleanup stats cron lock mask pitr completions man help" -f -a "pitr" -d 'Continuous oplog archiving for restores to a point in time (docs/pitr.md)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and not __fish_seen_subcommand_from config backup list describe delete verify import prune rekey restore drill users indexes cleanup stats cron lock mask pitr completions man help" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and not __fish_seen_subcommand_from config backup list describe delete verify import prune rekey restore drill users indexes cleanup stats cron lock mask pitr completions man help" -f -a "man" -d 'Write man pages (one per command) into a folder'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and not __fish_seen_subcommand_from config backup list describe delete verify import prune rekey restore drill users indexes cleanup stats cron lock mask pitr completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "check" -d 'Validate the configuration and read every secret file; exit 2 naming what is wrong'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "show" -d 'Print the resolved configuration (file, then environment), secrets redacted'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and __fish_seen_subcommand_from users" -f -a "provision" -d 'Create missing users and roles, fix role drift, set passwords from secrets files'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and __fish_seen_subcommand_from users" -f -a "check" -d 'Compare live users and roles (and passwords, where the server shows credentials) with the config; exit 6 listing each difference'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and __fish_seen_subcommand_from users" -f -a "list" -d 'Users of every database: auth database, roles, mechanisms'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and __fish_seen_subcommand_from indexes" -f -a "validate" -d 'Per collection and index: ok, missing, extra or different (exit 0 or 6)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and __fish_seen_subcommand_from indexes" -f -a "apply" -d 'Create missing indexes, change TTLs in place; optionally drop extras and rebuild indexes whose options differ'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and __fish_seen_subcommand_from indexes" -f -a "export" -d 'Write the live indexes of the database as a spec file'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and __fish_seen_subcommand_from cron" -f -a "print" -d 'Print the crontab lines for the config\'s schedule'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and __fish_seen_subcommand_from cron" -f -a "install" -d 'Put the lines in the user\'s crontab (between # BEGIN/# END daraa-ops), idempotently'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and __fish_seen_subcommand_from cron" -f -a "remove" -d 'Take the daraa-ops lines out again'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and __fish_seen_subcommand_from lock" -f -a "status" -d 'Show who holds each lock of the configured database (main, drill and pitr push; file and Redis)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and __fish_seen_subcommand_from lock" -f -a "release" -d 'Remove the lock of a run that crashed'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and __fish_seen_subcommand_from mask" -f -a "check" -d 'Sample every collection and list fields that look like personal data without a masking rule (exit 6 if any)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and __fish_seen_subcommand_from pitr" -f -a "push" -d 'Archive the oplog entries of the configured database since the last chunk, as chunks beside the backups in every storage; runs until SIGTERM unless --once. Exit 6 when the oplog no longer reached back to the last chunk (a gap, recorded)'
complete -c daraa-ops -n "__fish_daraa_ops_using_subcommand help; and __fish_seen_subcommand_from pitr" -f -a "status" -d 'Show what can be restored to a point in time: per storage the windows (from a base backup\'s end to where its chain of chunks reaches), the chunks, the gaps; the newest archived entry and its lag'
