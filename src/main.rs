use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use landpay::accounts::cli::UserCommand;
use landpay::auth::jwt::JwtKeys;
use landpay::auth::Role;
use landpay::config::{ConfigDuration, ConfigSources, Settings};
use landpay::startup::Application;
use landpay::storage::Store;

/// landpay: pay the financial obligations of Vietnamese land procedures online.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// An extra configuration file, applied after config/default.toml and config/{LANDPAY_ENV}.toml.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations, then serve the API, pages and workers (the default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Mint an API token from the configured secret; prints only the token.
    Token {
        /// The caller's client id, written as the token's `sub` (idempotency keys are scoped to it).
        #[arg(long)]
        sub: String,
        /// A role: portal, finance or admin; may repeat.
        #[arg(long = "role", value_enum, required = true)]
        roles: Vec<Role>,
        /// Limit the token to one agency's records.
        #[arg(long)]
        agency: Option<String>,
        /// Sign with this HS256 key of `auth.keys` (its `kid` goes in the token's header);
        /// without it, with `auth.jwt_secret`.
        #[arg(long)]
        kid: Option<String>,
        /// Lifetime such as 1h, 30m or 7d.
        #[arg(long, default_value = "1h", value_parser = parse_duration)]
        ttl: ConfigDuration,
    },
    /// Load and validate the configuration, print every effective key (secrets redacted) and
    /// where each value came from.
    CheckConfig,
    /// Accounts of the people who sign in to the finance dashboard.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Copy the SQLite database to FILE while the service keeps serving (a consistent snapshot).
    Backup {
        /// The new file to write (must not exist).
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Replace the SQLite database with a backup (stop the service first).
    Restore {
        /// The backup file to restore.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// Replace a database that already holds data.
        #[arg(long)]
        force: bool,
    },
}

fn parse_duration(text: &str) -> Result<ConfigDuration, String> {
    ConfigDuration::parse(text)
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(&ConfigSources::from_env(cli.config.clone())) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("landpay: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _traces = match landpay::telemetry::init_with_traces(&settings.log, &settings.telemetry) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("landpay: telemetry.otlp_endpoint: {e}");
            return ExitCode::FAILURE;
        }
    };
    match run(cli.command.unwrap_or(Command::Serve), settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = ?e, "landpay stopped with an error");
            eprintln!("landpay: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), "landpay listening");
            app.run_until_stopped().await
        }
        Command::Migrate => {
            let store = Store::connect(&settings.database).await?;
            store.migrate().await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Token {
            sub,
            roles,
            agency,
            kid,
            ttl,
        } => {
            let token = JwtKeys::new(&settings.auth).mint_with_kid(
                kid.as_deref(),
                &sub,
                &roles,
                agency.as_deref(),
                ttl.0,
            )?;
            println!("{token}");
            Ok(())
        }
        Command::CheckConfig => {
            print!("{}", settings.to_redacted_toml()?);
            print!("{}", landpay::config::provenance_report(&settings.origins));
            Ok(())
        }
        Command::Backup { to } => {
            let bytes = landpay::storage::backup::backup(&settings.database, &to).await?;
            tracing::info!(file = %to.display(), bytes, "backup written");
            Ok(())
        }
        Command::Restore { from, force } => {
            landpay::storage::backup::restore(&settings.database, &from, force).await?;
            tracing::info!(file = %from.display(), "backup restored");
            Ok(())
        }
        Command::User { command } => {
            let store = Store::connect(&settings.database).await?;
            store.migrate().await?;
            let result = landpay::accounts::cli::run(&store, command, chrono::Utc::now()).await;
            store.close().await;
            result
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every command and every flag, nested ones included, says what it is for in `--help`.
    #[test]
    fn every_command_and_flag_has_help_text() {
        let mut missing = Vec::new();
        let mut stack = vec![(String::from("landpay"), Cli::command())];
        while let Some((name, cmd)) = stack.pop() {
            if name != "landpay" && cmd.get_about().is_none() {
                missing.push(name.clone());
            }
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id != "help" && id != "version" && arg.get_help().is_none() {
                    missing.push(format!("{name} --{id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_name() != "help" {
                    stack.push((format!("{name} {}", sub.get_name()), sub.clone()));
                }
            }
        }
        assert!(missing.is_empty(), "without help text: {missing:?}");
    }
}
