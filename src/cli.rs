//! The command-line surface (docs/cli.md), declared once with clap derive.
//!
//! Completions, man pages and docs/cli.md are generated from these types; nothing here runs
//! a command.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::exit_codes_help;
pub use crate::logging::LogFormat;
pub use crate::output::OutputFormat;

#[derive(Debug, Parser)]
#[command(
    name = "daraa-ops",
    version,
    about = "MongoDB operations for the Daraa marketplace: users, backups, restores, indexes, cleanup, stats",
    after_help = exit_codes_help(),
    propagate_version = true,
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Config file [default: $DARAA_OPS_CONFIG, ./daraa-ops.yaml, /etc/daraa-ops/daraa-ops.yaml]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Output for people (text) or one JSON object on stdout when the command ends (json)
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Log line format on stderr
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Only errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// More log detail (-v debug, -vv trace)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Never draw progress bars (they are also hidden when stderr is not a terminal)
    #[arg(long, global = true)]
    pub no_progress: bool,

    /// Answer yes to confirmation prompts (needed for destructive actions without a terminal)
    #[arg(long, global = true)]
    pub yes: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate or print the resolved configuration
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Dump the database into a backup (.tar.gz, which mongorestore reads once extracted; .tar.zst
    /// with backup.compression: zstd; with backup.format: archive mongodump's archive format),
    /// upload it, apply retention
    ///
    /// Consistency: collections are read in parallel while the application writes, so a backup
    /// of a live database is consistent per document, not across collections (an order may be
    /// in it without its wallet transaction). The manifest records each collection's window in
    /// cluster time (replica sets). For a consistent backup today, stop the writers, or back up
    /// a hidden secondary locked with fsyncLock; a point-in-time backup needs the oplog, which
    /// only replica sets have (docs/operations.md, "Consistency").
    #[command(after_help = exit_codes_help())]
    Backup(BackupArgs),
    /// List backups (local and S3): id, size, documents, where, status (verified, drilled), label
    List(ListArgs),
    /// Show one backup: collections, documents, bytes, checksums, format, encryption, timings,
    /// where it is stored, and when it was last verified and drilled
    Describe(DescribeArgs),
    /// Delete one backup (archive, sidecar, checks) from every storage that holds it
    ///
    /// Asks for confirmation on a terminal (--yes in scripts). The newest complete backup of the
    /// database is refused unless --force. Runs under the job lock, like prune.
    #[command(after_help = exit_codes_help())]
    Delete(DeleteArgs),
    /// Re-read an archive and check every checksum, count and BSON document (exit 6 if bad)
    #[command(after_help = exit_codes_help())]
    Verify(VerifyArgs),
    /// Make a backup daraa-ops did not write (mongodump --archive, a --out folder, a tar of one)
    /// into a daraa-ops backup: verified, manifest, sidecar, upload, retention
    ///
    /// The backup's time, which names it in the catalog, comes from --time, else from a date in
    /// its name (dump_20261128, daraa-2026-11-28T03-00-00), else from its modification time. A
    /// backup already in the catalog under that time is left alone (exit 0).
    #[command(after_help = exit_codes_help())]
    Import(ImportArgs),
    /// Apply retention to the local directory and S3
    Prune(PruneArgs),
    /// Re-encrypt backups for the configured age recipients (key rotation), in place
    ///
    /// Each backup not yet encrypted for exactly backup.encryption's recipients is decrypted
    /// with the configured identities and encrypted to the new recipients, without
    /// decompressing or dumping again; the new file is opened and verified in full before it
    /// replaces the old one (locally and in S3). Needs an identity of one of the new
    /// recipients in backup.encryption.identity_files.
    #[command(after_help = exit_codes_help())]
    Rekey(RekeyArgs),
    /// Restore a backup (local, S3 or a path); live collections are replaced only once the new
    /// data is complete and verified
    #[command(after_help = exit_codes_help())]
    Restore(RestoreArgs),
    /// Restore into a scratch database, compare with the manifest, drop it (exit 0 or 6)
    #[command(after_help = exit_codes_help())]
    Drill(DrillArgs),
    /// Create or update the config's users and roles, check them for drift, list users
    #[command(subcommand)]
    Users(UsersCommand),
    /// Compare live indexes with the spec file, apply it, or export one from a database
    #[command(subcommand)]
    Indexes(IndexesCommand),
    /// Delete, or archive then delete, old documents by the config's cleanup rules
    #[command(after_help = exit_codes_help())]
    Cleanup(CleanupArgs),
    /// Server, database, collection, index and Redis statistics, for people, JSON or Prometheus
    Stats(StatsArgs),
    /// Crontab lines from the config's schedule: print, install or remove them
    #[command(subcommand)]
    Cron(CronCommand),
    /// Inspect or release the job lock (one backup, restore or cleanup at a time)
    #[command(subcommand)]
    Lock(LockCommand),
    /// Check that the masking rules cover every field holding personal data
    #[command(subcommand)]
    Mask(MaskCommand),
    /// Continuous oplog archiving for restores to a point in time (docs/pitr.md)
    #[command(subcommand)]
    Pitr(PitrCommand),
    /// Print a shell completion script to stdout
    Completions(CompletionsArgs),
    /// Write man pages (one per command) into a folder
    Man(ManArgs),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and read every secret file; exit 2 naming what is wrong
    #[command(after_help = exit_codes_help())]
    Check(ConfigCheckArgs),
    /// Print the resolved configuration (file, then environment), secrets redacted
    Show,
}

#[derive(Debug, Args)]
pub struct ConfigCheckArgs {
    /// Also connect to MongoDB, Redis and S3 with the configured credentials (exit 3 on failure)
    #[arg(long)]
    pub connect: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Folder to write `daraa-ops.1` and `daraa-ops-<command>.1` into (created if missing)
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
}

impl Command {
    /// The name used in JSON summaries and logs, e.g. `config check`.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Config(ConfigCommand::Check(_)) => "config check",
            Command::Config(ConfigCommand::Show) => "config show",
            Command::Backup(_) => "backup",
            Command::List(_) => "list",
            Command::Describe(_) => "describe",
            Command::Delete(_) => "delete",
            Command::Verify(_) => "verify",
            Command::Import(_) => "import",
            Command::Prune(_) => "prune",
            Command::Rekey(_) => "rekey",
            Command::Restore(_) => "restore",
            Command::Drill(_) => "drill",
            Command::Users(UsersCommand::Provision(_)) => "users provision",
            Command::Users(UsersCommand::Check) => "users check",
            Command::Users(UsersCommand::List) => "users list",
            Command::Indexes(IndexesCommand::Validate(_)) => "indexes validate",
            Command::Indexes(IndexesCommand::Apply(_)) => "indexes apply",
            Command::Indexes(IndexesCommand::Export(_)) => "indexes export",
            Command::Cleanup(_) => "cleanup",
            Command::Stats(_) => "stats",
            Command::Cron(CronCommand::Print(_)) => "cron print",
            Command::Cron(CronCommand::Install(_)) => "cron install",
            Command::Cron(CronCommand::Remove(_)) => "cron remove",
            Command::Lock(LockCommand::Status) => "lock status",
            Command::Lock(LockCommand::Release(_)) => "lock release",
            Command::Mask(MaskCommand::Check(_)) => "mask check",
            Command::Pitr(PitrCommand::Push(_)) => "pitr push",
            Command::Pitr(PitrCommand::Status) => "pitr status",
            Command::Completions(_) => "completions",
            Command::Man(_) => "man",
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Keep the archive local only, even when S3 is configured
    #[arg(long)]
    pub no_upload: bool,
    /// Do not apply retention after the backup
    #[arg(long)]
    pub no_prune: bool,
    /// Free text stored in the manifest (e.g. "before-migration-42")
    #[arg(long, value_name = "TEXT")]
    pub label: Option<String>,
    /// List what would be backed up; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Stream the backup to standard output in mongodump's archive format (gzip), for pipes
    /// (`… | aws s3 cp - s3://…`); nothing is written locally. Standard output is the archive:
    /// the report, and with --output json the JSON summary, go to stderr
    #[arg(long, conflicts_with_all = ["dry_run", "no_upload"])]
    pub stdout: bool,
    /// Take no oplog: the collections are restored as dumped, one after the other, and the
    /// backup is not point-in-time (backup.oplog)
    #[arg(long)]
    pub no_oplog: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only the local backup directory
    #[arg(long, conflicts_with = "remote")]
    pub local: bool,
    /// Only S3
    #[arg(long)]
    pub remote: bool,
}

#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// A backup id, `latest`, or a path (a backup without a sidecar is read once)
    #[arg(value_name = "ID|latest|PATH")]
    pub target: String,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The backup id (see `daraa-ops list`)
    #[arg(value_name = "ID")]
    pub id: String,
    /// Also delete the newest complete backup
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A backup id, `latest`, or a path: a .tar.gz or .tar.zst, a mongodump --archive file, --out folder or tar of one
    #[arg(value_name = "ID|latest|PATH")]
    pub target: String,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The path of a mongodump --archive file (gzip'd or not), a --out folder, or a tar(.gz or .zst) of one
    #[arg(value_name = "PATH")]
    pub path: String,
    /// When the backup was taken, in UTC: 2026-11-28, 2026-11-28T03:00:00 or RFC 3339
    #[arg(long, value_name = "TIME")]
    pub time: Option<String>,
    /// Accept a --time later than now (a clock you trust more than this host's)
    #[arg(long, requires = "time")]
    pub allow_future: bool,
    /// Free text stored in the manifest
    #[arg(long, value_name = "TEXT")]
    pub label: Option<String>,
    /// Keep the imported backup local only, even when S3 is configured
    #[arg(long)]
    pub no_upload: bool,
    /// Do not apply retention after the import
    #[arg(long)]
    pub no_prune: bool,
}

#[derive(Debug, Args)]
pub struct RekeyArgs {
    /// Only these backups (ids); all complete backups when none is given
    #[arg(value_name = "ID")]
    pub ids: Vec<String>,
    /// Show which backups would be re-encrypted; change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Show what retention would delete; delete nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum PitrCommand {
    /// Archive the oplog entries of the configured database since the last chunk, as chunks
    /// beside the backups in every storage; runs until SIGTERM unless --once. Exit 6 when the
    /// oplog no longer reached back to the last chunk (a gap, recorded)
    #[command(after_help = exit_codes_help())]
    Push(PitrPushArgs),
    /// Show what can be restored to a point in time: per storage the windows (from a base
    /// backup's end to where its chain of chunks reaches), the chunks, the gaps; the newest
    /// archived entry and its lag
    #[command(after_help = exit_codes_help())]
    Status,
}

#[derive(Debug, Args)]
pub struct PitrPushArgs {
    /// Archive what is there and exit (from cron); without it, push every pitr.span_seconds
    #[arg(long)]
    pub once: bool,
}

#[derive(Debug, Subcommand)]
pub enum LockCommand {
    /// Show who holds each lock of the configured database (main, drill and pitr push; file and Redis)
    Status,
    /// Remove the lock of a run that crashed
    Release(LockReleaseArgs),
}

#[derive(Debug, Args)]
pub struct LockReleaseArgs {
    /// Required: releasing a lock another run holds lets two jobs overlap. A Redis lock whose
    /// holder is alive on this host needs it twice (--force --force)
    #[arg(long, action = clap::ArgAction::Count)]
    pub force: u8,
    /// Only this lock (as `lock status` names it, e.g. daraa or daraa_drill) [default: all]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A backup id, `latest`, a path (a .tar.gz or .tar.zst, a mongodump --archive file, --out folder or tar
    /// of one), or `-` to read any of those shapes piped into standard input
    #[arg(value_name = "ID|latest|PATH|-", required_unless_present = "to_time")]
    pub target: Option<String>,
    /// Restore the database as it was at this time (RFC 3339, or an oplog timestamp T,I): the
    /// newest backup ending before it, then the oplog archived by `pitr push` up to it
    #[arg(long, value_name = "TIME", conflicts_with = "target")]
    pub to_time: Option<String>,
    /// Restore into this database instead of the configured one
    #[arg(long, value_name = "NAME")]
    pub target_db: Option<String>,
    /// Only these collections (comma-separated)
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    pub collections: Option<Vec<String>>,
    /// Replace collections that exist and are not empty (asks on a terminal unless --yes)
    #[arg(long)]
    pub drop: bool,
    /// Show what would be restored and what exists in the target; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not delete the application's Redis cache keys after restoring the live database
    #[arg(long)]
    pub no_cache_invalidation: bool,
    /// Write into a database listed in restore.protected_databases (the only way in; --yes
    /// does not do it)
    #[arg(long)]
    pub force_protected: bool,
    /// Apply the config's masking rules while restoring (never into the live or a protected
    /// database; required for masking.staging_databases)
    #[arg(long)]
    pub mask: bool,
}

#[derive(Debug, Args)]
pub struct DrillArgs {
    /// A backup id, `latest` (default), or a path: a .tar.gz or .tar.zst, a mongodump --archive file, --out folder or tar of one
    #[arg(value_name = "ID|latest|PATH", default_value = "latest")]
    pub target: String,
    /// Apply the config's masking rules while restoring into the scratch database
    #[arg(long)]
    pub mask: bool,
    /// Drill a restore to this time (RFC 3339, or T,I): the newest backup ending before it,
    /// then the oplog archived by `pitr push` up to it; `random`: a random point of the
    /// newest restorable window (`pitr status`)
    #[arg(long, value_name = "TIME|random", conflicts_with = "target")]
    pub to_time: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum MaskCommand {
    /// Sample every collection and list fields that look like personal data without a masking
    /// rule (exit 6 if any)
    #[command(after_help = exit_codes_help())]
    Check(MaskCheckArgs),
}

#[derive(Debug, Args)]
pub struct MaskCheckArgs {
    /// Sample a backup (id, `latest` or a path) instead of the live database
    #[arg(long, value_name = "ID|latest|PATH")]
    pub backup: Option<String>,
    /// Documents sampled per collection
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub sample: u64,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create missing users and roles, fix role drift, set passwords from secrets files
    #[command(after_help = exit_codes_help())]
    Provision(UsersProvisionArgs),
    /// Compare live users and roles (and passwords, where the server shows credentials) with
    /// the config; exit 6 listing each difference
    #[command(after_help = exit_codes_help())]
    Check,
    /// Users of every database: auth database, roles, mechanisms
    List,
}

#[derive(Debug, Args)]
pub struct UsersProvisionArgs {
    /// Print the plan; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// When to set the password of a user that exists: on-create (never), always, or if-drift
    /// (the secrets file no longer matches the stored SCRAM-SHA-256 credentials)
    #[arg(long, value_enum, default_value_t = UpdatePasswords::OnCreate)]
    pub update_passwords: UpdatePasswords,
    /// Create a missing secrets file with a random password (mode 0600; never printed)
    #[arg(long)]
    pub generate_missing: bool,
}

/// `--update-passwords` (the users engine's `PasswordPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UpdatePasswords {
    /// Only when the user is created
    OnCreate,
    /// On every run
    Always,
    /// When the stored SCRAM-SHA-256 credentials do not match the secrets file
    IfDrift,
}

impl From<UpdatePasswords> for crate::users::PasswordPolicy {
    fn from(u: UpdatePasswords) -> Self {
        match u {
            UpdatePasswords::OnCreate => Self::OnCreate,
            UpdatePasswords::Always => Self::Always,
            UpdatePasswords::IfDrift => Self::IfDrift,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum IndexesCommand {
    /// Per collection and index: ok, missing, extra or different (exit 0 or 6)
    #[command(after_help = exit_codes_help())]
    Validate(IndexesSpecArgs),
    /// Create missing indexes, change TTLs in place; optionally drop extras and rebuild
    /// indexes whose options differ
    #[command(after_help = exit_codes_help())]
    Apply(IndexesApplyArgs),
    /// Write the live indexes of the database as a spec file
    Export(IndexesExportArgs),
}

#[derive(Debug, Args)]
pub struct IndexesSpecArgs {
    /// Index spec file [default: indexes.spec from the config]
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct IndexesApplyArgs {
    #[command(flatten)]
    pub spec: IndexesSpecArgs,
    /// Print the plan; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Also drop live indexes the spec does not declare (never _id_)
    #[arg(long)]
    pub drop_extra: bool,
    /// Drop and recreate indexes whose options differ (asks for confirmation unless --yes)
    #[arg(long)]
    pub rebuild: bool,
}

#[derive(Debug, Args)]
pub struct IndexesExportArgs {
    /// Write the spec here (atomically) instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// Only this rule (repeat for several) [default: every rule, in config order]
    #[arg(long, value_name = "NAME")]
    pub rule: Vec<String>,
    /// Count what each rule would remove and show the first _ids; change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatsFormat {
    Table,
    Json,
    Prometheus,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Output format (with --output json, the JSON summary holds the same data)
    #[arg(long, value_enum, default_value_t = StatsFormat::Table)]
    pub format: StatsFormat,
    /// Write the output to this file atomically (e.g. node_exporter's textfile folder)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Append this run to a JSON Lines history file and report growth since its last entry
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CronCommand {
    /// Print the crontab lines for the config's schedule
    Print(CronLinesArgs),
    /// Put the lines in the user's crontab (between # BEGIN/# END daraa-ops), idempotently
    Install(CronInstallArgs),
    /// Take the daraa-ops lines out again
    Remove(CronTargetArgs),
}

#[derive(Debug, Args)]
pub struct CronLinesArgs {
    /// Folder for the jobs' log files (<job>.log), created by install
    #[arg(long, value_name = "DIR", default_value = "/var/log/daraa-ops")]
    pub log_dir: PathBuf,
    /// The daraa-ops binary cron runs [default: this binary]
    #[arg(long, value_name = "PATH")]
    pub bin: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CronTargetArgs {
    /// Edit this crontab file instead of the user's crontab (crontab -l / crontab -)
    #[arg(long, value_name = "FILE", conflicts_with = "cron_d")]
    pub crontab_file: Option<PathBuf>,
    /// Write (or remove) a system cron file instead [default path: /etc/cron.d/daraa-ops]
    #[arg(long, value_name = "PATH", num_args = 0..=1, default_missing_value = "/etc/cron.d/daraa-ops")]
    pub cron_d: Option<PathBuf>,
    /// User the jobs run as, for --cron-d [default: the current user]
    #[arg(long, value_name = "NAME", requires = "cron_d")]
    pub user: Option<String>,
}

#[derive(Debug, Args)]
pub struct CronInstallArgs {
    #[command(flatten)]
    pub lines: CronLinesArgs,
    #[command(flatten)]
    pub target: CronTargetArgs,
}
