//! The people and bodies of co-production and the things they work on:
//! organisations, people, memberships (which give a person a position),
//! initiatives, schemes, components, meetings, households.
//!
//! These are plain values; their history lives in events (`event`) and the
//! rules about them in arrangements (`arrangement`).

use serde::{Deserialize, Serialize};

use crate::arrangement::Domain;

/// What sort of body an organisation is; boundary rules say which kinds may
/// fill a partner role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// A local, district or provincial government body or utility (TMA, WASA).
    Public,
    /// A community organisation (lane organisation, VSC, CCB, WASCO).
    Community,
    /// An NGO or other non-profit intermediary (OPP-RTI, LPP, ASB).
    ThirdSector,
    Donor,
    Private,
}

impl OrgKind {
    pub const ALL: [OrgKind; 5] = [
        OrgKind::Public,
        OrgKind::Community,
        OrgKind::ThirdSector,
        OrgKind::Donor,
        OrgKind::Private,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Public => "public",
            OrgKind::Community => "community",
            OrgKind::ThirdSector => "third_sector",
            OrgKind::Donor => "donor",
            OrgKind::Private => "private",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Female,
    Male,
    Other,
}

/// An organisation as the registry knows it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Organisation {
    pub id: String,
    pub name: String,
    pub kind: OrgKind,
    #[serde(default)]
    pub district: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Person {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub gender: Option<Gender>,
    /// Holds elected office (a councillor): boundary rules such as the CCB's
    /// "no elected members" read this.
    #[serde(default)]
    pub elected: bool,
}

/// A person's membership of an organisation, in a position. `member` is the
/// position of an ordinary member; other positions are named by the
/// arrangements (`chair`, `treasurer`, `works_engineer`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Membership {
    pub id: String,
    pub person: String,
    pub organisation: String,
    pub position: String,
}

/// What boundary rules may read about an organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OrgFacts {
    pub kind: String,
    /// Distinct people with any membership.
    pub members: i64,
    pub women_members: i64,
    /// Members who hold elected office.
    pub elected_members: i64,
}

/// A component of a scheme as stored, after the arrangement's scope rules
/// have said whose domain it is in.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Component {
    pub kind: String,
    pub domain: Domain,
    pub delivered_by: String,
    /// Estimate in minor units; absent until estimated.
    pub estimate: Option<i64>,
    #[serde(default)]
    pub description: Option<String>,
}

/// Attendance at a meeting, counted by gender (the women's share is a
/// willingness indicator), with optional named attendees.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Attendance {
    #[serde(default)]
    pub women: u32,
    #[serde(default)]
    pub men: u32,
    #[serde(default)]
    pub other: u32,
    /// Registered people present, by id.
    #[serde(default)]
    pub people: Vec<String>,
}

impl Attendance {
    pub fn total(&self) -> u32 {
        self.women + self.men + self.other
    }
}

/// A resolution voted at a meeting. When it names an action, it can satisfy
/// an aggregation rule that needs a resolution for that action.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ResolutionRecord {
    pub motion: String,
    #[serde(default)]
    pub action: Option<String>,
    pub votes_for: u32,
    #[serde(default)]
    pub votes_against: u32,
    #[serde(default)]
    pub abstentions: u32,
}

/// A meeting as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Meeting {
    /// The partner role whose meeting this is (`community`, `council`).
    pub body: String,
    /// The date it was held (YYYY-MM-DD), which may be before it was recorded.
    pub held_on: String,
    #[serde(default)]
    pub place: Option<String>,
    pub attendance: Attendance,
    #[serde(default)]
    pub resolutions: Vec<ResolutionRecord>,
    #[serde(default)]
    pub minutes: Option<String>,
}

/// A household in a scheme's register.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Household {
    /// House number as painted on the door.
    pub house: String,
    /// Head of household; shown only where information rules allow.
    #[serde(default)]
    pub head: Option<String>,
    #[serde(default)]
    pub members: Option<u32>,
}
