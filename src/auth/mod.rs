//! API callers: JWT verification, roles and agency scoping. Reading the bearer token of a
//! request is `http::bearer`'s job.

pub mod jwt;

use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// The roles a token may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Portal,
    Finance,
    Admin,
}

/// Who is calling: the verified claims of the bearer token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub sub: String,
    pub roles: Vec<Role>,
    pub agency: Option<String>,
}

impl Caller {
    pub fn has_any(&self, roles: &[Role]) -> bool {
        self.roles.iter().any(|r| roles.contains(r))
    }

    /// The agency every query of this caller is limited to, if any.
    pub fn agency_scope(&self) -> Option<&str> {
        self.agency.as_deref()
    }

    /// Whether a record of `agency` is visible to this caller (invisible records answer 404).
    pub fn can_see(&self, agency: Option<&str>) -> bool {
        match (&self.agency, agency) {
            (None, _) => true,
            (Some(mine), Some(theirs)) => mine == theirs,
            (Some(_), None) => false,
        }
    }

    /// The agency a new record of this caller belongs to: the token's, or the one asked for.
    /// A token bound to one agency cannot create records of another.
    pub fn agency_for_new(
        &self,
        requested: Option<&str>,
        field: &str,
    ) -> Result<Option<String>, ApiError> {
        match (&self.agency, requested) {
            (Some(mine), Some(asked)) if mine != asked => Err(ApiError::Forbidden(format!(
                "this token may only create records of agency {mine}, not `{field}` = {asked}"
            ))),
            (Some(mine), _) => Ok(Some(mine.clone())),
            (None, asked) => Ok(asked.map(str::to_owned)),
        }
    }
}

/// Which roles an endpoint accepts; checked by the [`Auth`] extractor before anything else.
pub trait Access {
    const ROLES: &'static [Role];
}

/// Any authenticated caller (quotes).
pub struct AnyRole;
/// Portal work: creating notices, payments, attempts (admin too).
pub struct PortalAccess;
/// Reading: portal, finance and admin.
pub struct ReadAccess;
/// Finance work: refunds, flags, reconciliation, reports (admin too).
pub struct FinanceAccess;
/// Administration: webhook endpoints.
pub struct AdminAccess;

impl Access for AnyRole {
    const ROLES: &'static [Role] = &[Role::Portal, Role::Finance, Role::Admin];
}
impl Access for PortalAccess {
    const ROLES: &'static [Role] = &[Role::Portal, Role::Admin];
}
impl Access for ReadAccess {
    const ROLES: &'static [Role] = &[Role::Portal, Role::Finance, Role::Admin];
}
impl Access for FinanceAccess {
    const ROLES: &'static [Role] = &[Role::Finance, Role::Admin];
}
impl Access for AdminAccess {
    const ROLES: &'static [Role] = &[Role::Admin];
}

/// A verified caller holding one of `A::ROLES`. As an extractor (`http::bearer`), put it first in
/// a handler's arguments so that 401/403 are decided before the path, query or body are looked at.
pub struct Auth<A: Access> {
    pub caller: Caller,
    _access: PhantomData<A>,
}

impl<A: Access> std::ops::Deref for Auth<A> {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.caller
    }
}

impl<A: Access> Auth<A> {
    /// Admits a verified caller holding one of `A::ROLES`; anyone else is forbidden.
    pub fn admit(caller: Caller) -> Result<Self, ApiError> {
        if caller.has_any(A::ROLES) {
            Ok(Auth {
                caller,
                _access: PhantomData,
            })
        } else {
            Err(ApiError::Forbidden(format!(
                "this operation needs one of the roles: {}",
                A::ROLES
                    .iter()
                    .map(|r| format!("{r:?}").to_ascii_lowercase())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    }
}
