//! `landpay user …`: accounts of the people who use the finance dashboard. Passwords are read
//! from standard input (one line), never from the command line.

use std::io::Read;

use clap::{Subcommand, ValueEnum};

use super::{normalise_email, password, totp, valid_email};
use crate::storage::accounts::UserRow;
use crate::storage::{ts, Store};

/// The role of a person's account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AccountRole {
    Finance,
    Admin,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add an account; reads the password from standard input and prints the TOTP enrolment URI.
    Add {
        /// The person's e-mail address (their sign-in name).
        #[arg(long)]
        email: String,
        /// finance or admin.
        #[arg(long, value_enum)]
        role: AccountRole,
        /// Limit the account to one agency's records.
        #[arg(long)]
        agency: Option<String>,
        /// No second factor (for accounts behind another sign-in; not recommended).
        #[arg(long)]
        no_totp: bool,
    },
    /// List the accounts (no secrets).
    List,
    /// Disable an account and end its sessions.
    Disable {
        /// The account's e-mail address.
        #[arg(long)]
        email: String,
    },
    /// Set a new password read from standard input; ends the account's sessions and lifts a lock.
    ResetPassword {
        /// The account's e-mail address.
        #[arg(long)]
        email: String,
    },
}

fn read_password() -> anyhow::Result<String> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    let line = text.strip_suffix('\n').unwrap_or(&text);
    let line = line.strip_suffix('\r').unwrap_or(line);
    password::check_new(line).map_err(|e| anyhow::anyhow!(e))?;
    Ok(line.to_owned())
}

async fn hashed(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || password::hash(&password)).await?
}

/// Runs one `user` command; what it prints goes to standard output.
pub async fn run(
    store: &Store,
    command: UserCommand,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            email,
            role,
            agency,
            no_totp,
        } => add(store, &email, role, agency, no_totp, now).await?,
        UserCommand::List => list(store, now).await?,
        UserCommand::Disable { email } => {
            let email = normalise_email(&email);
            anyhow::ensure!(store.disable_user(&email, now).await?, "no account {email}");
            store
                .account_event(&email, "account.disabled", None, None, now)
                .await?;
        }
        UserCommand::ResetPassword { email } => {
            let email = normalise_email(&email);
            anyhow::ensure!(store.user(&email).await?.is_some(), "no account {email}");
            let hash = hashed(read_password()?).await?;
            anyhow::ensure!(
                store.set_password(&email, &hash, now).await?,
                "no account {email}"
            );
            store
                .account_event(&email, "password.reset", None, None, now)
                .await?;
        }
    }
    Ok(())
}

async fn add(
    store: &Store,
    email: &str,
    role: AccountRole,
    agency: Option<String>,
    no_totp: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let email = normalise_email(email);
    anyhow::ensure!(
        valid_email(&email),
        "--email is not an e-mail address: {email}"
    );
    if let Some(a) = &agency {
        anyhow::ensure!(!a.trim().is_empty(), "--agency must not be empty");
    }
    let hash = hashed(read_password()?).await?;
    let secret = (!no_totp).then(totp::new_secret);
    let row = UserRow {
        email: email.clone(),
        role: match role {
            AccountRole::Finance => "finance",
            AccountRole::Admin => "admin",
        }
        .to_owned(),
        agency_code: agency.map(|a| a.trim().to_owned()),
        password_hash: hash,
        totp_secret: secret.clone(),
        disabled_at: None,
        locked_until: None,
        password_changed_at: ts(now),
        created_at: ts(now),
    };
    anyhow::ensure!(
        store.insert_user(&row).await?,
        "an account {email} already exists"
    );
    store
        .account_event(&email, "account.created", None, Some(&row.role), now)
        .await?;
    match secret {
        Some(s) => println!("{}", totp::enrolment_uri(&s, &email)?),
        None => println!("{email}"),
    }
    Ok(())
}

async fn list(store: &Store, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<()> {
    for u in store.users().await? {
        let state = match (&u.disabled_at, &u.locked_until) {
            (Some(_), _) => "disabled",
            (None, Some(t)) if crate::storage::parse_ts(t).is_ok_and(|t| t > now) => "locked",
            _ => "active",
        };
        println!(
            "{}\t{}\t{}\t{}\t{}",
            u.email,
            u.role,
            u.agency_code.as_deref().unwrap_or("-"),
            if u.totp_secret.is_some() {
                "totp"
            } else {
                "no-totp"
            },
            state
        );
    }
    Ok(())
}
