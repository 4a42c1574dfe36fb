//! Tests of the widget: the transition table of §7.2 (every transition, and the hostile ones),
//! the §9.6 rows that concern the flow (F01–F14, F17–F24, F26–F30, F37), and the helpers around
//! the reducer (§5.1, §5.2, §7.1, §7.4, §7.5, §7.6, §7.9).

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used, clippy::panic)]

use super::*;
use crate::hs256::{sign_hs256, Hs256Key};
use crate::url::NativeUrlParser;

const URLS: NativeUrlParser = NativeUrlParser;
const PRODUCT: &str = "shiny-pony";
const A: &str = "0b6f5d8e-1a2b-4c3d-8e9f-a0b1c2d3e4f5";
const B: &str = "1c3e5a7b-9d2f-4e6a-8b0c-2d4f6a8c0e1b";
const PAY_ORIGIN: &str = "http://127.0.0.1:7802";
const STATUS_URL: &str = "/mozpay/status/order-1";
const EVENTS_URL: &str = "/mozpay/status/order-1/events";
const RECEIPT: &str = "cert~receipt";
const T0: f64 = 1_000_000.0;

// ----- fixtures -----

fn config() -> Config {
    Config::new(PRODUCT, PayProviders::with_default(PAY_ORIGIN, [], &URLS).unwrap())
}

fn cfg_with(f: impl FnOnce(&mut Config)) -> Config {
    let mut c = config();
    f(&mut c);
    c
}

fn obj(members: &[(&str, Json)]) -> Json {
    Json::Obj(members.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
}

fn s(v: &str) -> Json {
    Json::Str(v.to_owned())
}

fn request(id: &str) -> Json {
    obj(&[
        ("id", s(id)),
        ("pricePoint", s("1")),
        ("name", s("Shiny Pony")),
        ("description", s("A pony")),
        ("defaultLocale", s("en")),
        (
            "locales",
            obj(&[
                ("de", obj(&[("name", s("Glänzendes Pony"))])),
                ("pt-PT", obj(&[("name", s("Pónei"))])),
            ]),
        ),
        ("productData", s("mm_order=order-1")),
    ])
}

fn jwt_with(typ: Option<&str>, request: Option<Json>) -> String {
    let mut m = vec![
        ("iss", s("8e6b1f9e-2f4a-4b8e-9d2c-5b1a7c3e9f10")),
        ("aud", s("127.0.0.1:7802")),
        ("iat", Json::Num(1_700_000_000.0)),
        ("exp", Json::Num(1_700_003_600.0)),
    ];
    if let Some(t) = typ {
        m.push(("typ", s(t)));
    }
    if let Some(r) = request {
        m.push(("request", r));
    }
    let key = Hs256Key::from_secret("app-secret-0123456789-abcdefghijklmnop").unwrap();
    sign_hs256(&obj(&m), &key)
}

fn jwt() -> String {
    jwt_with(Some(PAY_TYP), Some(request(PRODUCT)))
}

fn buy_body(jwt: &str, events: bool) -> String {
    let mut m = vec![
        ("orderId", s("order-1")),
        ("productId", s(PRODUCT)),
        ("jwt", s(jwt)),
        ("statusURL", s(STATUS_URL)),
        ("simulated", Json::Bool(false)),
    ];
    if events {
        m.push(("statusEventsURL", s(EVENTS_URL)));
    }
    obj(&m).to_json_text()
}

fn order_for(jwt: &str, events: bool) -> Order {
    Order {
        order_id: "order-1".into(),
        jwt: jwt.to_owned(),
        status_url: STATUS_URL.into(),
        status_events_url: events.then(|| EVENTS_URL.to_owned()),
        pay_url: format!("{PAY_ORIGIN}/mozpay/?req={jwt}"),
        pay_origin: PAY_ORIGIN.into(),
        simulated: false,
        product: ProductText {
            name: Some("Shiny Pony".into()),
            description: Some("A pony".into()),
            lang: Some("en".into()),
        },
    }
}

fn order() -> Order {
    order_for(&jwt(), false)
}

fn order_events() -> Order {
    order_for(&jwt(), true)
}

fn attempt() -> Attempt {
    Attempt { id: A.into(), warned_foreign_message: false }
}

fn warned() -> Attempt {
    Attempt { id: A.into(), warned_foreign_message: true }
}

fn preparing(popup: PopupStatus, retried: bool) -> State {
    State::Preparing { attempt: attempt(), popup, buy_retried: retried }
}

fn paying_with(order: Order) -> State {
    State::Paying { attempt: attempt(), order, blocked: false, mozpay: false }
}

fn paying() -> State {
    paying_with(order())
}

fn paying_blocked() -> State {
    State::Paying { attempt: attempt(), order: order(), blocked: true, mozpay: false }
}

fn paying_mozpay() -> State {
    State::Paying { attempt: attempt(), order: order(), blocked: false, mozpay: true }
}

fn progress(mechanism: Mechanism, grace: bool) -> Progress {
    Progress {
        started_ms: T0,
        deadline_ms: T0 + 120_000.0,
        mechanism,
        in_flight: mechanism == Mechanism::Polling,
        next_delay_ms: 250.0,
        requests: u32::from(mechanism == Mechanism::Polling),
        grace_until_ms: grace.then_some(T0 + 3_000.0),
        last_error: None,
    }
}

fn waiting_p(order: Order, p: Progress) -> State {
    State::Waiting { attempt: attempt(), order, progress: p }
}

/// Polling, first request in flight.
fn waiting() -> State {
    waiting_p(order(), progress(Mechanism::Polling, false))
}

fn waiting_stream() -> State {
    waiting_p(order_events(), progress(Mechanism::EventStream, false))
}

fn waiting_grace() -> State {
    waiting_p(order(), progress(Mechanism::Polling, true))
}

/// Polling, idle between requests, `d_k` = `next`, with a last error.
fn waiting_between(next: f64, requests: u32, last: Option<WidgetError>) -> State {
    let mut p = progress(Mechanism::Polling, false);
    p.in_flight = false;
    p.next_delay_ms = next;
    p.requests = requests;
    p.last_error = last;
    waiting_p(order(), p)
}

fn complete() -> CompleteStatus {
    CompleteStatus {
        receipt: RECEIPT.into(),
        product_id: Some(PRODUCT.into()),
        transaction_id: Some("webpay:0b6f5d8e-1a2b-4c3d-8e9f-a0b1c2d3e4f5".into()),
    }
}

fn complete_body() -> String {
    obj(&[
        ("status", s("complete")),
        ("receipt", s(RECEIPT)),
        ("productId", s(PRODUCT)),
        ("transactionID", s("webpay:0b6f5d8e-1a2b-4c3d-8e9f-a0b1c2d3e4f5")),
    ])
    .to_json_text()
}

fn installing() -> State {
    State::Installing { attempt: attempt(), order: order(), complete: complete() }
}

fn verifying(added: bool, stage: VerifyStage) -> State {
    State::Verifying { attempt: attempt(), order: order(), complete: complete(), added, stage }
}

fn failed(error: WidgetError) -> State {
    State::Failed { attempt_id: A.into(), error }
}

fn cancelled(reason: CancelReason) -> State {
    State::Cancelled { attempt_id: A.into(), reason, error: WidgetError::new(reason.code()) }
}

fn purchase(test: bool, store: StoreVerdict) -> PurchaseDetail {
    PurchaseDetail {
        product_id: PRODUCT.into(),
        order_id: "order-1".into(),
        transaction_id: complete().transaction_id,
        receipt: RECEIPT.into(),
        test,
        store,
        attempt_id: A.into(),
    }
}

fn purchased_state(store: StoreVerdict) -> State {
    State::Purchased { purchase: Some(purchase(false, store)) }
}

fn err(code: ErrorCode) -> WidgetError {
    WidgetError::new(code)
}

// ----- effect shorthands -----

fn sc(previous: StateName, state: StateName) -> Effect {
    Effect::Emit(Event::StateChange {
        state,
        previous,
        product_id: PRODUCT.into(),
        attempt_id: Some(A.into()),
    })
}

fn polite(key: MessageKey) -> Effect {
    Effect::Announce { politeness: Politeness::Polite, key }
}

fn sched(timer: TimerKind, delay_ms: f64) -> Effect {
    Effect::Schedule { attempt_id: A.into(), timer, delay_ms }
}

fn get_status() -> Effect {
    Effect::GetStatus { attempt_id: A.into(), url: STATUS_URL.into() }
}

fn warning(error: WidgetError) -> Effect {
    Effect::Emit(Event::Warning { product_id: PRODUCT.into(), attempt_id: Some(A.into()), error })
}

fn focus_main() -> Effect {
    Effect::Focus(FocusTarget::MainButton)
}

/// The effects of entering `failed` from `from`.
fn fail_fx(from: StateName, error: WidgetError, remove: bool) -> Vec<Effect> {
    let mut v = vec![Effect::EndAttempt];
    if remove {
        v.push(Effect::RemoveReceipt { receipt: RECEIPT.into() });
    }
    v.push(sc(from, StateName::Failed));
    v.push(Effect::Emit(Event::Failed {
        product_id: PRODUCT.into(),
        attempt_id: A.into(),
        error: error.clone(),
    }));
    if let Some(key) = error.message_key() {
        v.push(Effect::Announce { politeness: Politeness::Alert, key });
    }
    v.push(focus_main());
    v
}

fn cancel_fx(from: StateName, reason: CancelReason) -> Vec<Effect> {
    vec![
        Effect::EndAttempt,
        sc(from, StateName::Cancelled),
        Effect::Emit(Event::Cancelled {
            product_id: PRODUCT.into(),
            attempt_id: A.into(),
            reason,
            error: WidgetError::new(reason.code()),
        }),
        polite(MessageKey::CancelledStatus),
        focus_main(),
    ]
}

/// `paying` → `waiting` on a result (popup path, polling).
fn to_waiting_poll_fx() -> Vec<Effect> {
    vec![
        Effect::CancelTimer(TimerKind::WindowCheck),
        Effect::CancelTimer(TimerKind::UnloadedCheck),
        Effect::ClosePopup,
        Effect::StopListening,
        get_status(),
        sched(TimerKind::PurchaseTimeout, 120_000.0),
        sc(StateName::Paying, StateName::Waiting),
        polite(MessageKey::WaitingStatus),
        focus_main(),
    ]
}

/// `paying` → `waiting` for the closed-window grace period.
fn to_grace_fx() -> Vec<Effect> {
    vec![
        Effect::CancelTimer(TimerKind::WindowCheck),
        Effect::CancelTimer(TimerKind::UnloadedCheck),
        get_status(),
        sched(TimerKind::PurchaseTimeout, 120_000.0),
        sched(TimerKind::GraceEnd, 3_000.0),
        sc(StateName::Paying, StateName::Waiting),
        polite(MessageKey::WaitingStatus),
        focus_main(),
    ]
}

fn to_installing_fx(extra_before: &[Effect]) -> Vec<Effect> {
    let mut v =
        vec![Effect::CancelTimer(TimerKind::Poll), Effect::CancelTimer(TimerKind::PurchaseTimeout)];
    v.extend_from_slice(extra_before);
    v.push(Effect::InstallReceipt { attempt_id: A.into(), receipt: RECEIPT.into() });
    v.push(sc(StateName::Waiting, StateName::Installing));
    v.push(polite(MessageKey::InstallingStatus));
    v
}

fn purchased_fx(store: StoreVerdict, warn: Option<WidgetError>) -> Vec<Effect> {
    let mut v = Vec::new();
    if let Some(w) = warn {
        v.push(warning(w));
    }
    v.push(Effect::EndAttempt);
    v.push(sc(StateName::Verifying, StateName::Purchased));
    v.push(Effect::Emit(Event::Purchase(purchase(false, store))));
    v.push(polite(MessageKey::PurchasedStatus));
    v
}

// ----- action shorthands -----

fn activate(id: &str) -> Action {
    Action::Activate { attempt_id: id.into() }
}

fn buy(status: u16, body: &str) -> Action {
    Action::BuyAnswer { attempt_id: A.into(), answer: HttpAnswer::response(status, body) }
}

fn buy_fail(answer: HttpAnswer) -> Action {
    Action::BuyAnswer { attempt_id: A.into(), answer }
}

fn msg(origin: &str, from_popup: bool, status: &str, code: Option<&str>) -> Action {
    Action::Message {
        origin: origin.into(),
        from_popup,
        data: MessageData::Status { status: status.into(), error_code: code.map(str::to_owned) },
    }
}

fn ok_msg() -> Action {
    msg(PAY_ORIGIN, true, "ok", None)
}

fn timer(kind: TimerKind, popup_closed: bool) -> Action {
    Action::TimerFired { attempt_id: A.into(), timer: kind, popup_closed }
}

fn status(code: u16, body: &str) -> Action {
    Action::StatusAnswer {
        attempt_id: A.into(),
        answer: HttpAnswer::response(code, body),
        jitter_sample: 0.5,
    }
}

fn status_ans(answer: HttpAnswer, jitter_sample: f64) -> Action {
    Action::StatusAnswer { attempt_id: A.into(), answer, jitter_sample }
}

fn pending() -> Action {
    status(200, r#"{"status":"pending"}"#)
}

fn event(data: &str) -> Action {
    Action::StatusEvent { attempt_id: A.into(), data: data.into() }
}

fn mozpay(outcome: MozPayOutcome) -> Action {
    Action::MozPayResult { attempt_id: A.into(), outcome }
}

fn local(verdict: LocalVerdict) -> Action {
    Action::LocalVerification { attempt_id: A.into(), verdict }
}

fn store(code: u16, body: &str) -> Action {
    Action::StoreAnswer { attempt_id: A.into(), answer: HttpAnswer::response(code, body) }
}

// ----- the table -----

struct Case {
    name: &'static str,
    config: Config,
    start: State,
    action: Action,
    now: f64,
    state: State,
    effects: Vec<Effect>,
}

fn case(
    name: &'static str,
    start: State,
    action: Action,
    state: State,
    effects: Vec<Effect>,
) -> Case {
    Case { name, config: config(), start, action, now: T0, state, effects }
}

fn with_config(mut c: Case, config: Config) -> Case {
    c.config = config;
    c
}

fn at(mut c: Case, now: f64) -> Case {
    c.now = now;
    c
}

/// The same state back and no effects.
fn ignored(name: &'static str, start: State, action: Action) -> Case {
    let state = start.clone();
    case(name, start, action, state, vec![])
}

fn run(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for c in cases {
        let (state, effects) = reduce(&c.config, c.start, c.action, c.now);
        if state != c.state {
            failures
                .push(format!("{}: state\n  got      {state:?}\n  expected {:?}", c.name, c.state));
        }
        if effects != c.effects {
            failures.push(format!(
                "{}: effects\n  got      {effects:#?}\n  expected {:#?}",
                c.name, c.effects
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn transitions_activation_and_preparing() {
    let good = buy_body(&jwt(), false);
    let mozpay_cfg = cfg_with(|c| c.pay_path = PayPath::MozPay);
    let mut simulated_req = request(PRODUCT);
    if let Json::Obj(m) = &mut simulated_req {
        m.push(("simulate".into(), obj(&[("result", s("postback"))])));
    }
    let sim_jwt = jwt_with(Some(PAY_TYP), Some(simulated_req));
    let mut sim_order = order_for(&sim_jwt, false);
    sim_order.simulated = true;
    let long_jwt =
        jwt_with(Some(PAY_TYP), Some(obj(&[("id", s(PRODUCT)), ("pad", s(&"x".repeat(8200)))])));
    let zamboni = obj(&[
        ("orderId", s("order-1")),
        ("webpayJWT", s(&jwt())),
        ("contribStatusURL", s(STATUS_URL)),
    ])
    .to_json_text();
    let http_404 = WidgetError::new(ErrorCode::BadApiResponse)
        .with("httpStatus", Json::Num(404.0))
        .with_str("errorCode", "PRODUCT_NOT_FOUND");
    run(vec![
        case(
            "idle + activate (popup path): blank popup first, then the buy request",
            State::Idle,
            activate(A),
            preparing(PopupStatus::Opening, false),
            vec![
                Effect::OpenBlankPopup,
                Effect::PostBuy { attempt_id: A.into() },
                sc(StateName::Idle, StateName::Preparing),
                polite(MessageKey::PreparingStatus),
            ],
        ),
        case(
            "failed + activate starts a new attempt",
            failed(err(ErrorCode::ApiRequestError)),
            activate(A),
            preparing(PopupStatus::Opening, false),
            vec![
                Effect::OpenBlankPopup,
                Effect::PostBuy { attempt_id: A.into() },
                sc(StateName::Failed, StateName::Preparing),
                polite(MessageKey::PreparingStatus),
            ],
        ),
        case(
            "cancelled + activate starts a new attempt",
            cancelled(CancelReason::UserCancelled),
            activate(A),
            preparing(PopupStatus::Opening, false),
            vec![
                Effect::OpenBlankPopup,
                Effect::PostBuy { attempt_id: A.into() },
                sc(StateName::Cancelled, StateName::Preparing),
                polite(MessageKey::PreparingStatus),
            ],
        ),
        with_config(
            case(
                "idle + activate (mozPay): no popup",
                State::Idle,
                activate(A),
                preparing(PopupStatus::NotUsed, false),
                vec![
                    Effect::PostBuy { attempt_id: A.into() },
                    sc(StateName::Idle, StateName::Preparing),
                    polite(MessageKey::PreparingStatus),
                ],
            ),
            mozpay_cfg.clone(),
        ),
        with_config(
            case(
                "idle + activate with neither mozPay nor window.open",
                State::Idle,
                activate(A),
                failed(err(ErrorCode::PayPlatformUnavailable)),
                fail_fx(StateName::Idle, err(ErrorCode::PayPlatformUnavailable), false),
            ),
            cfg_with(|c| c.pay_path = PayPath::Unavailable),
        ),
        ignored(
            "double click: preparing + activate",
            preparing(PopupStatus::Open, false),
            activate(B),
        ),
        case(
            "paying + activate focuses the popup",
            paying(),
            activate(B),
            paying(),
            vec![Effect::FocusPopup],
        ),
        ignored("blocked sub-state + main button", paying_blocked(), activate(B)),
        ignored("mozPay paying + activate", paying_mozpay(), activate(B)),
        ignored("waiting + activate", waiting(), activate(B)),
        ignored("installing + activate", installing(), activate(B)),
        ignored("verifying + activate", verifying(true, VerifyStage::Local), activate(B)),
        ignored("purchased + activate", purchased_state(StoreVerdict::Ok), activate(B)),
        case(
            "popup opened",
            preparing(PopupStatus::Opening, false),
            Action::PopupOpened { blocked: false },
            preparing(PopupStatus::Open, false),
            vec![],
        ),
        case(
            "popup blocked",
            preparing(PopupStatus::Opening, false),
            Action::PopupOpened { blocked: true },
            preparing(PopupStatus::Blocked, false),
            vec![],
        ),
        ignored("popup report while idle", State::Idle, Action::PopupOpened { blocked: false }),
        case(
            "buy answered, JWT accepted, popup open: navigate and listen",
            preparing(PopupStatus::Open, false),
            buy(201, &good),
            paying(),
            vec![
                Effect::NavigatePopup { url: order().pay_url },
                sc(StateName::Preparing, StateName::Paying),
                Effect::ListenForMessages,
                sched(TimerKind::WindowCheck, 500.0),
                polite(MessageKey::PayingStatus),
            ],
        ),
        case(
            "buy answered while the popup report is still pending counts as open",
            preparing(PopupStatus::Opening, false),
            buy(201, &good),
            paying(),
            vec![
                Effect::NavigatePopup { url: order().pay_url },
                sc(StateName::Preparing, StateName::Paying),
                Effect::ListenForMessages,
                sched(TimerKind::WindowCheck, 500.0),
                polite(MessageKey::PayingStatus),
            ],
        ),
        case(
            "F06 buy answered with the popup blocked: blocked sub-state",
            preparing(PopupStatus::Blocked, false),
            buy(201, &good),
            paying_blocked(),
            vec![
                sc(StateName::Preparing, StateName::Paying),
                polite(MessageKey::PopupBlockedStatus),
                Effect::Focus(FocusTarget::OpenPaymentWindow),
            ],
        ),
        with_config(
            case(
                "buy answered on the mozPay path",
                preparing(PopupStatus::NotUsed, false),
                buy(201, &good),
                paying_mozpay(),
                vec![
                    Effect::CallMozPay { attempt_id: A.into(), jwt: jwt() },
                    sc(StateName::Preparing, StateName::Paying),
                    polite(MessageKey::PayingStatus),
                ],
            ),
            mozpay_cfg,
        ),
        case(
            "zamboni member names are accepted",
            preparing(PopupStatus::Open, false),
            buy(200, &zamboni),
            paying(),
            vec![
                Effect::NavigatePopup { url: order().pay_url },
                sc(StateName::Preparing, StateName::Paying),
                Effect::ListenForMessages,
                sched(TimerKind::WindowCheck, 500.0),
                polite(MessageKey::PayingStatus),
            ],
        ),
        with_config(
            case(
                "simulated JWT with allowTestReceipts",
                preparing(PopupStatus::Open, false),
                buy(201, &buy_body(&sim_jwt, false)),
                paying_with(sim_order.clone()),
                vec![
                    Effect::NavigatePopup { url: sim_order.pay_url.clone() },
                    sc(StateName::Preparing, StateName::Paying),
                    Effect::ListenForMessages,
                    sched(TimerKind::WindowCheck, 500.0),
                    polite(MessageKey::PayingStatus),
                ],
            ),
            cfg_with(|c| c.allow_test_receipts = true),
        ),
        case(
            "F17 buy network error: one immediate retry with the same key",
            preparing(PopupStatus::Open, false),
            buy_fail(HttpAnswer::NetworkError),
            preparing(PopupStatus::Open, true),
            vec![Effect::PostBuy { attempt_id: A.into() }],
        ),
        case(
            "buy timeout: one retry",
            preparing(PopupStatus::Open, false),
            buy_fail(HttpAnswer::Timeout),
            preparing(PopupStatus::Open, true),
            vec![Effect::PostBuy { attempt_id: A.into() }],
        ),
        case(
            "F17 second network error fails; the blank popup is closed",
            preparing(PopupStatus::Open, true),
            buy_fail(HttpAnswer::NetworkError),
            failed(err(ErrorCode::ApiRequestError)),
            fail_fx(StateName::Preparing, err(ErrorCode::ApiRequestError), false),
        ),
        case(
            "second timeout fails",
            preparing(PopupStatus::Open, true),
            buy_fail(HttpAnswer::Timeout),
            failed(err(ErrorCode::ApiRequestTimeout)),
            fail_fx(StateName::Preparing, err(ErrorCode::ApiRequestTimeout), false),
        ),
        case(
            "buy 500 is fatal at once (no retry)",
            preparing(PopupStatus::Open, false),
            buy(500, "oops"),
            failed(err(ErrorCode::BadApiResponse).with("httpStatus", Json::Num(500.0))),
            fail_fx(
                StateName::Preparing,
                err(ErrorCode::BadApiResponse).with("httpStatus", Json::Num(500.0)),
                false,
            ),
        ),
        case(
            "buy 404 with error_code",
            preparing(PopupStatus::Open, false),
            buy(404, r#"{"error_code":"PRODUCT_NOT_FOUND","error":"x"}"#),
            failed(http_404.clone()),
            fail_fx(StateName::Preparing, http_404, false),
        ),
        case(
            "buy 201 with an HTML body",
            preparing(PopupStatus::Open, false),
            buy(201, "<html>"),
            failed(err(ErrorCode::BadJsonResponse)),
            fail_fx(StateName::Preparing, err(ErrorCode::BadJsonResponse), false),
        ),
        case(
            "buy body without jwt",
            preparing(PopupStatus::Open, false),
            buy(201, r#"{"statusURL":"/s"}"#),
            failed(err(ErrorCode::BadApiResponse).with_str("missing", "jwt")),
            fail_fx(
                StateName::Preparing,
                err(ErrorCode::BadApiResponse).with_str("missing", "jwt"),
                false,
            ),
        ),
        case(
            "buy body without statusURL",
            preparing(PopupStatus::Open, false),
            buy(201, &obj(&[("jwt", s(&jwt()))]).to_json_text()),
            failed(err(ErrorCode::BadApiResponse).with_str("missing", "statusURL")),
            fail_fx(
                StateName::Preparing,
                err(ErrorCode::BadApiResponse).with_str("missing", "statusURL"),
                false,
            ),
        ),
        case(
            "F19 jwt \"abc\"",
            preparing(PopupStatus::Open, false),
            buy(201, &buy_body("abc", false)),
            failed(err(ErrorCode::InvalidJwtData)),
            fail_fx(StateName::Preparing, err(ErrorCode::InvalidJwtData), false),
        ),
        case(
            "F18 unmapped typ: failed before navigating",
            preparing(PopupStatus::Open, false),
            buy(
                201,
                &buy_body(
                    &jwt_with(Some("mozilla-local/payments/pay/v1"), Some(request(PRODUCT))),
                    false,
                ),
            ),
            failed(err(ErrorCode::UnexpectedJwtType)),
            fail_fx(StateName::Preparing, err(ErrorCode::UnexpectedJwtType), false),
        ),
        case(
            "JWT without typ",
            preparing(PopupStatus::Open, false),
            buy(201, &buy_body(&jwt_with(None, Some(request(PRODUCT))), false)),
            failed(err(ErrorCode::InvalidJwtData)),
            fail_fx(StateName::Preparing, err(ErrorCode::InvalidJwtData), false),
        ),
        case(
            "JWT without request",
            preparing(PopupStatus::Open, false),
            buy(201, &buy_body(&jwt_with(Some(PAY_TYP), None), false)),
            failed(err(ErrorCode::InvalidJwtData)),
            fail_fx(StateName::Preparing, err(ErrorCode::InvalidJwtData), false),
        ),
        case(
            "F19 request.id is another product",
            preparing(PopupStatus::Open, false),
            buy(201, &buy_body(&jwt_with(Some(PAY_TYP), Some(request("other"))), false)),
            failed(err(ErrorCode::InvalidJwtData)),
            fail_fx(StateName::Preparing, err(ErrorCode::InvalidJwtData), false),
        ),
        case(
            "JWT longer than 8192 bytes",
            preparing(PopupStatus::Open, false),
            buy(201, &buy_body(&long_jwt, false)),
            failed(err(ErrorCode::InvalidJwtData)),
            fail_fx(StateName::Preparing, err(ErrorCode::InvalidJwtData), false),
        ),
        case(
            "F20 simulated JWT without allowTestReceipts fails before the pay page opens",
            preparing(PopupStatus::Open, false),
            buy(201, &buy_body(&sim_jwt, false)),
            failed(err(ErrorCode::TestReceiptNotAllowed).with_str("check", "simulate")),
            fail_fx(
                StateName::Preparing,
                err(ErrorCode::TestReceiptNotAllowed).with_str("check", "simulate"),
                false,
            ),
        ),
        ignored(
            "buy answer for another attempt",
            preparing(PopupStatus::Open, false),
            Action::BuyAnswer { attempt_id: B.into(), answer: HttpAnswer::response(201, &good) },
        ),
        ignored("buy answer while paying (replayed)", paying(), buy(201, &good)),
        ignored("buy answer while idle", State::Idle, buy(201, &good)),
    ]);
}

#[test]
fn transitions_paying() {
    let mozpay_broken = cfg_with(|c| {
        c.pay_path = PayPath::MozPay;
        c.on_broken_webrt = true;
    });
    let to_waiting_mozpay = vec![
        get_status(),
        sched(TimerKind::PurchaseTimeout, 120_000.0),
        sc(StateName::Paying, StateName::Waiting),
        polite(MessageKey::WaitingStatus),
    ];
    let foreign = err(ErrorCode::UnknownMessageOrigin).with_str("origin", "https://evil.example");
    let fail_msg = |code: &str| err(ErrorCode::PayWindowFailMessage).with_str("providerCode", code);
    run(vec![
        case(
            "blocked: open payment window",
            paying_blocked(),
            Action::OpenPaymentWindow,
            paying_blocked(),
            vec![Effect::OpenPopup { url: order().pay_url }],
        ),
        case(
            "blocked: still blocked, announcement repeats",
            paying_blocked(),
            Action::PopupOpened { blocked: true },
            paying_blocked(),
            vec![
                polite(MessageKey::PopupBlockedStatus),
                Effect::Focus(FocusTarget::OpenPaymentWindow),
            ],
        ),
        case(
            "blocked: the window opened",
            paying_blocked(),
            Action::PopupOpened { blocked: false },
            paying(),
            vec![
                Effect::ListenForMessages,
                sched(TimerKind::WindowCheck, 500.0),
                polite(MessageKey::PayingStatus),
            ],
        ),
        case(
            "F06 blocked: cancel",
            paying_blocked(),
            Action::CancelBlocked,
            cancelled(CancelReason::PopupBlocked),
            cancel_fx(StateName::Paying, CancelReason::PopupBlocked),
        ),
        ignored("cancel button outside the blocked sub-state", paying(), Action::CancelBlocked),
        ignored(
            "open payment window outside the blocked sub-state",
            paying(),
            Action::OpenPaymentWindow,
        ),
        case(
            "{status:ok} from the popup: waiting (polling)",
            paying(),
            ok_msg(),
            waiting(),
            to_waiting_poll_fx(),
        ),
        case(
            "{status:ok} with an event stream offered",
            paying_with(order_events()),
            ok_msg(),
            waiting_stream(),
            vec![
                Effect::CancelTimer(TimerKind::WindowCheck),
                Effect::CancelTimer(TimerKind::UnloadedCheck),
                Effect::ClosePopup,
                Effect::StopListening,
                Effect::OpenEventStream { attempt_id: A.into(), url: EVENTS_URL.into() },
                sched(TimerKind::PurchaseTimeout, 120_000.0),
                sc(StateName::Paying, StateName::Waiting),
                polite(MessageKey::WaitingStatus),
                focus_main(),
            ],
        ),
        with_config(
            case(
                "event stream offered but unusable: polling",
                paying_with(order_events()),
                ok_msg(),
                waiting_p(order_events(), progress(Mechanism::Polling, false)),
                to_waiting_poll_fx(),
            ),
            cfg_with(|c| c.use_event_stream = false),
        ),
        case(
            "F01 {status:ok} from a foreign origin: ignored, one warning",
            paying(),
            msg("https://evil.example", true, "ok", None),
            State::Paying { attempt: warned(), order: order(), blocked: false, mozpay: false },
            vec![warning(foreign.clone())],
        ),
        ignored(
            "F01 a second foreign message does not warn again",
            State::Paying { attempt: warned(), order: order(), blocked: false, mozpay: false },
            msg("https://evil.example", true, "ok", None),
        ),
        case(
            "F02 right origin, another window: ignored (source check)",
            paying(),
            msg(PAY_ORIGIN, false, "ok", None),
            State::Paying { attempt: warned(), order: order(), blocked: false, mozpay: false },
            vec![warning(err(ErrorCode::UnknownMessageOrigin).with_str("origin", PAY_ORIGIN))],
        ),
        case(
            "origin compared exactly (trailing slash)",
            paying(),
            msg("http://127.0.0.1:7802/", true, "ok", None),
            State::Paying { attempt: warned(), order: order(), blocked: false, mozpay: false },
            vec![warning(
                err(ErrorCode::UnknownMessageOrigin).with_str("origin", "http://127.0.0.1:7802/"),
            )],
        ),
        ignored(
            "F03 data is a JSON string: ignored",
            paying(),
            Action::Message {
                origin: PAY_ORIGIN.into(),
                from_popup: true,
                data: MessageData::Other,
            },
        ),
        case(
            "F04 unknown status",
            paying(),
            msg(PAY_ORIGIN, true, "weird", None),
            failed(err(ErrorCode::UnknownMessageStatus)),
            fail_fx(StateName::Paying, err(ErrorCode::UnknownMessageStatus), false),
        ),
        case(
            "F05 failed without errorCode",
            paying(),
            msg(PAY_ORIGIN, true, "failed", None),
            failed(fail_msg("MISSING_ERROR_CODE")),
            fail_fx(StateName::Paying, fail_msg("MISSING_ERROR_CODE"), false),
        ),
        case(
            "failed with a malformed errorCode",
            paying(),
            msg(PAY_ORIGIN, true, "failed", Some("<b>x</b>")),
            failed(fail_msg("MISSING_ERROR_CODE")),
            fail_fx(StateName::Paying, fail_msg("MISSING_ERROR_CODE"), false),
        ),
        case(
            "failed with a provider code",
            paying(),
            msg(PAY_ORIGIN, true, "failed", Some("TRANS_FAILED")),
            failed(fail_msg("TRANS_FAILED")),
            fail_fx(StateName::Paying, fail_msg("TRANS_FAILED"), false),
        ),
        case(
            "F09 USER_CANCELLED",
            paying(),
            msg(PAY_ORIGIN, true, "failed", Some("USER_CANCELLED")),
            cancelled(CancelReason::UserCancelled),
            cancel_fx(StateName::Paying, CancelReason::UserCancelled),
        ),
        case(
            "unloaded: check again after 300 ms",
            paying(),
            msg(PAY_ORIGIN, true, "unloaded", None),
            paying(),
            vec![sched(TimerKind::UnloadedCheck, 300.0)],
        ),
        ignored(
            "F10 unloaded check: the window is still open",
            paying(),
            timer(TimerKind::UnloadedCheck, false),
        ),
        case(
            "unloaded check: the window closed → grace",
            paying(),
            timer(TimerKind::UnloadedCheck, true),
            waiting_grace(),
            to_grace_fx(),
        ),
        case(
            "window check: still open, check again",
            paying(),
            timer(TimerKind::WindowCheck, false),
            paying(),
            vec![sched(TimerKind::WindowCheck, 500.0)],
        ),
        case(
            "F07/F08 window check: closed without a result → grace",
            paying(),
            timer(TimerKind::WindowCheck, true),
            waiting_grace(),
            to_grace_fx(),
        ),
        ignored(
            "timer of another attempt",
            paying(),
            Action::TimerFired {
                attempt_id: B.into(),
                timer: TimerKind::WindowCheck,
                popup_closed: true,
            },
        ),
        ignored(
            "window check in the blocked sub-state",
            paying_blocked(),
            timer(TimerKind::WindowCheck, true),
        ),
        ignored(
            "window check on the mozPay path",
            paying_mozpay(),
            timer(TimerKind::WindowCheck, true),
        ),
        ignored("a complete status while paying", paying(), status(200, &complete_body())),
        ignored("a message while idle", State::Idle, ok_msg()),
        ignored(
            "a message while waiting (listener removed)",
            waiting(),
            msg(PAY_ORIGIN, true, "failed", Some("X")),
        ),
        case(
            "mozPay success",
            paying_mozpay(),
            mozpay(MozPayOutcome::Success),
            waiting(),
            to_waiting_mozpay.clone(),
        ),
        case(
            "mozPay USER_CANCELLED",
            paying_mozpay(),
            mozpay(MozPayOutcome::Error("USER_CANCELLED".into())),
            cancelled(CancelReason::UserCancelled),
            cancel_fx(StateName::Paying, CancelReason::UserCancelled),
        ),
        with_config(
            case(
                "F30 mozPay USER_CANCELLED under onBrokenWebRT: waiting",
                paying_mozpay(),
                mozpay(MozPayOutcome::Error("USER_CANCELLED".into())),
                waiting(),
                to_waiting_mozpay,
            ),
            mozpay_broken,
        ),
        case(
            "mozPay DIALOG_CLOSED_BY_USER",
            paying_mozpay(),
            mozpay(MozPayOutcome::Error("DIALOG_CLOSED_BY_USER".into())),
            cancelled(CancelReason::DialogClosedByUser),
            cancel_fx(StateName::Paying, CancelReason::DialogClosedByUser),
        ),
        case(
            "F29 mozPay BACKGROUND_APP",
            paying_mozpay(),
            mozpay(MozPayOutcome::Error("BACKGROUND_APP".into())),
            failed(err(ErrorCode::PayPlatformError).with_str("platformCode", "BACKGROUND_APP")),
            fail_fx(
                StateName::Paying,
                err(ErrorCode::PayPlatformError).with_str("platformCode", "BACKGROUND_APP"),
                false,
            ),
        ),
        ignored("mozPay result on the popup path", paying(), mozpay(MozPayOutcome::Success)),
    ]);
}

#[test]
fn transitions_waiting() {
    let last_500 = err(ErrorCode::BadApiResponse).with("httpStatus", Json::Num(500.0));
    let after = |next: f64, last: Option<WidgetError>| waiting_between(next, 1, last);
    let timeout_err = |last: Option<&WidgetError>| match last {
        Some(l) => err(ErrorCode::TransactionTimeout).with("lastError", l.summary()),
        None => err(ErrorCode::TransactionTimeout),
    };
    let mut in_flight_again = progress(Mechanism::Polling, false);
    in_flight_again.next_delay_ms = 500.0;
    in_flight_again.requests = 2;
    let failed_status = |e: &str| status(200, &format!(r#"{{"status":"failed","error":"{e}"}}"#));
    let pf = |code| err(code);
    run(vec![
        case(
            "pending: wait d_1 (no jitter at u = 0.5)",
            waiting(),
            pending(),
            after(500.0, None),
            vec![sched(TimerKind::Poll, 250.0)],
        ),
        case(
            "incomplete is pending",
            waiting(),
            status(200, r#"{"status":"incomplete"}"#),
            after(500.0, None),
            vec![sched(TimerKind::Poll, 250.0)],
        ),
        case(
            "jitter low end",
            waiting(),
            status_ans(HttpAnswer::response(200, r#"{"status":"pending"}"#), 0.0),
            after(500.0, None),
            vec![sched(TimerKind::Poll, 225.0)],
        ),
        case(
            "jitter high end",
            waiting(),
            status_ans(HttpAnswer::response(200, r#"{"status":"pending"}"#), 1.0),
            after(500.0, None),
            vec![sched(TimerKind::Poll, 275.0)],
        ),
        case(
            "500 is transient",
            waiting(),
            status(500, ""),
            after(500.0, Some(last_500.clone())),
            vec![sched(TimerKind::Poll, 250.0)],
        ),
        case(
            "network error is transient",
            waiting(),
            status_ans(HttpAnswer::NetworkError, 0.5),
            after(500.0, Some(err(ErrorCode::ApiRequestError))),
            vec![sched(TimerKind::Poll, 250.0)],
        ),
        case(
            "timeout is transient",
            waiting(),
            status_ans(HttpAnswer::Timeout, 0.5),
            after(500.0, Some(err(ErrorCode::ApiRequestTimeout))),
            vec![sched(TimerKind::Poll, 250.0)],
        ),
        case(
            "429 waits for Retry-After",
            waiting(),
            status_ans(
                HttpAnswer::Response {
                    status: 429,
                    body: String::new(),
                    retry_after_secs: Some(3.0),
                },
                0.5,
            ),
            after(500.0, Some(err(ErrorCode::BadApiResponse).with("httpStatus", Json::Num(429.0)))),
            vec![sched(TimerKind::Poll, 3_000.0)],
        ),
        case(
            "429 Retry-After is capped at 10 s",
            waiting(),
            status_ans(
                HttpAnswer::Response {
                    status: 429,
                    body: String::new(),
                    retry_after_secs: Some(600.0),
                },
                0.5,
            ),
            after(500.0, Some(err(ErrorCode::BadApiResponse).with("httpStatus", Json::Num(429.0)))),
            vec![sched(TimerKind::Poll, 10_000.0)],
        ),
        case(
            "complete with a receipt: installing",
            waiting(),
            status(200, &complete_body()),
            installing(),
            to_installing_fx(&[]),
        ),
        case(
            "F14 complete without a receipt",
            waiting(),
            status(200, r#"{"status":"complete"}"#),
            failed(err(ErrorCode::BadApiResponse).with_str("missing", "receipt")),
            fail_fx(
                StateName::Waiting,
                err(ErrorCode::BadApiResponse).with_str("missing", "receipt"),
                false,
            ),
        ),
        case(
            "complete with a non-string receipt",
            waiting(),
            status(200, r#"{"status":"complete","receipt":{"a":1}}"#),
            failed(err(ErrorCode::BadApiResponse).with_str("missing", "receipt")),
            fail_fx(
                StateName::Waiting,
                err(ErrorCode::BadApiResponse).with_str("missing", "receipt"),
                false,
            ),
        ),
        case(
            "complete with a receipt over 64 KiB",
            waiting(),
            status(
                200,
                &obj(&[("status", s("complete")), ("receipt", s(&"r".repeat(65_537)))])
                    .to_json_text(),
            ),
            failed(err(ErrorCode::BadApiResponse).with_str("missing", "receipt")),
            fail_fx(
                StateName::Waiting,
                err(ErrorCode::BadApiResponse).with_str("missing", "receipt"),
                false,
            ),
        ),
        case(
            "failed/REFUNDED",
            waiting(),
            failed_status("REFUNDED"),
            failed(pf(ErrorCode::PaymentRefunded)),
            fail_fx(StateName::Waiting, pf(ErrorCode::PaymentRefunded), false),
        ),
        case(
            "failed/REVERSED",
            waiting(),
            failed_status("REVERSED"),
            failed(pf(ErrorCode::PaymentReversed)),
            fail_fx(StateName::Waiting, pf(ErrorCode::PaymentReversed), false),
        ),
        case(
            "failed/RECEIPT_UNAVAILABLE",
            waiting(),
            failed_status("RECEIPT_UNAVAILABLE"),
            failed(pf(ErrorCode::ReceiptUnavailable)),
            fail_fx(StateName::Waiting, pf(ErrorCode::ReceiptUnavailable), false),
        ),
        case(
            "failed/ABANDONED",
            waiting(),
            failed_status("ABANDONED"),
            failed(pf(ErrorCode::PaymentFailed).with_str("serverError", "ABANDONED")),
            fail_fx(
                StateName::Waiting,
                pf(ErrorCode::PaymentFailed).with_str("serverError", "ABANDONED"),
                false,
            ),
        ),
        case(
            "failed without error",
            waiting(),
            status(200, r#"{"status":"failed"}"#),
            failed(pf(ErrorCode::PaymentFailed).with("serverError", Json::Null)),
            fail_fx(
                StateName::Waiting,
                pf(ErrorCode::PaymentFailed).with("serverError", Json::Null),
                false,
            ),
        ),
        case(
            "F13 unknown status",
            waiting(),
            status(200, r#"{"status":"done"}"#),
            failed(err(ErrorCode::InvalidTransactionState)),
            fail_fx(StateName::Waiting, err(ErrorCode::InvalidTransactionState), false),
        ),
        case(
            "JSON that is not an object",
            waiting(),
            status(200, "[1]"),
            failed(err(ErrorCode::InvalidTransactionState)),
            fail_fx(StateName::Waiting, err(ErrorCode::InvalidTransactionState), false),
        ),
        case(
            "F12 HTML body",
            waiting(),
            status(200, "<html>"),
            failed(err(ErrorCode::BadJsonResponse)),
            fail_fx(StateName::Waiting, err(ErrorCode::BadJsonResponse), false),
        ),
        case(
            "404 ORDER_NOT_FOUND is fatal",
            waiting(),
            status(404, r#"{"error_code":"ORDER_NOT_FOUND"}"#),
            failed(
                err(ErrorCode::BadApiResponse)
                    .with("httpStatus", Json::Num(404.0))
                    .with_str("errorCode", "ORDER_NOT_FOUND"),
            ),
            fail_fx(
                StateName::Waiting,
                err(ErrorCode::BadApiResponse)
                    .with("httpStatus", Json::Num(404.0))
                    .with_str("errorCode", "ORDER_NOT_FOUND"),
                false,
            ),
        ),
        ignored("an answer with no request in flight", waiting_between(500.0, 1, None), pending()),
        ignored(
            "an answer for another attempt",
            waiting(),
            Action::StatusAnswer {
                attempt_id: B.into(),
                answer: HttpAnswer::response(200, &complete_body()),
                jitter_sample: 0.5,
            },
        ),
        at(
            case(
                "poll timer: the next request",
                waiting_between(500.0, 1, None),
                timer(TimerKind::Poll, true),
                waiting_p(order(), in_flight_again),
                vec![get_status()],
            ),
            T0 + 250.0,
        ),
        ignored("poll timer while a request is in flight", waiting(), timer(TimerKind::Poll, true)),
        at(
            case(
                "poll timer after the deadline: timeout",
                waiting_between(2000.0, 9, Some(last_500.clone())),
                timer(TimerKind::Poll, true),
                failed(timeout_err(Some(&last_500))),
                fail_fx(StateName::Waiting, timeout_err(Some(&last_500)), false),
            ),
            T0 + 120_000.0,
        ),
        at(
            case(
                "pending after the deadline: timeout",
                waiting(),
                pending(),
                failed(timeout_err(None)),
                fail_fx(StateName::Waiting, timeout_err(None), false),
            ),
            T0 + 130_000.0,
        ),
        case(
            "F11/F15 purchase timeout with the last transient error",
            waiting_between(2000.0, 9, Some(last_500.clone())),
            timer(TimerKind::PurchaseTimeout, true),
            failed(timeout_err(Some(&last_500))),
            fail_fx(StateName::Waiting, timeout_err(Some(&last_500)), false),
        ),
        case(
            "purchase timeout without errors",
            waiting_stream(),
            timer(TimerKind::PurchaseTimeout, true),
            failed(timeout_err(None)),
            fail_fx(StateName::Waiting, timeout_err(None), false),
        ),
        ignored("stream: pending event", waiting_stream(), event(r#"{"status":"pending"}"#)),
        case(
            "stream: complete event",
            waiting_stream(),
            event(&complete_body()),
            State::Installing { attempt: attempt(), order: order_events(), complete: complete() },
            to_installing_fx(&[Effect::CloseEventStream]),
        ),
        case(
            "stream: failed event",
            waiting_stream(),
            event(r#"{"status":"failed","error":"REFUNDED"}"#),
            failed(pf(ErrorCode::PaymentRefunded)),
            fail_fx(StateName::Waiting, pf(ErrorCode::PaymentRefunded), false),
        ),
        case(
            "stream: a garbage event is handled like a poll answer",
            waiting_stream(),
            event("not json"),
            failed(err(ErrorCode::BadJsonResponse)),
            fail_fx(StateName::Waiting, err(ErrorCode::BadJsonResponse), false),
        ),
        case(
            "F16 stream error: close it and poll at once",
            waiting_stream(),
            Action::StreamError { attempt_id: A.into() },
            waiting_p(order_events(), progress(Mechanism::Polling, false)),
            vec![Effect::CloseEventStream, get_status()],
        ),
        ignored("stream event while polling", waiting(), event(&complete_body())),
        ignored(
            "stream error while polling",
            waiting(),
            Action::StreamError { attempt_id: A.into() },
        ),
        ignored("poll answer while streaming", waiting_stream(), status(200, &complete_body())),
        case(
            "grace: pending keeps polling",
            waiting_grace(),
            pending(),
            {
                let mut p = progress(Mechanism::Polling, true);
                p.in_flight = false;
                p.next_delay_ms = 500.0;
                waiting_p(order(), p)
            },
            vec![sched(TimerKind::Poll, 250.0)],
        ),
        case(
            "F08 grace: complete continues normally",
            waiting_grace(),
            status(200, &complete_body()),
            installing(),
            to_installing_fx(&[Effect::CancelTimer(TimerKind::GraceEnd), Effect::StopListening]),
        ),
        case(
            "grace: failed status",
            waiting_grace(),
            failed_status("REFUNDED"),
            failed(pf(ErrorCode::PaymentRefunded)),
            fail_fx(StateName::Waiting, pf(ErrorCode::PaymentRefunded), false),
        ),
        case(
            "F07 grace ends without completion: cancelled",
            waiting_grace(),
            timer(TimerKind::GraceEnd, true),
            cancelled(CancelReason::DialogClosedByUser),
            cancel_fx(StateName::Waiting, CancelReason::DialogClosedByUser),
        ),
        case(
            "grace: a late {status:ok} ends the grace period",
            waiting_grace(),
            ok_msg(),
            waiting(),
            vec![Effect::CancelTimer(TimerKind::GraceEnd), Effect::StopListening],
        ),
        case(
            "grace: a late USER_CANCELLED",
            waiting_grace(),
            msg(PAY_ORIGIN, true, "failed", Some("USER_CANCELLED")),
            cancelled(CancelReason::UserCancelled),
            cancel_fx(StateName::Waiting, CancelReason::UserCancelled),
        ),
        case(
            "grace: a foreign message warns",
            waiting_grace(),
            msg("https://evil.example", true, "ok", None),
            waiting_p(order(), progress(Mechanism::Polling, true)).with_warned(),
            vec![warning(
                err(ErrorCode::UnknownMessageOrigin).with_str("origin", "https://evil.example"),
            )],
        ),
        ignored(
            "grace: unloaded is ignored",
            waiting_grace(),
            msg(PAY_ORIGIN, true, "unloaded", None),
        ),
        ignored("grace end outside the grace period", waiting(), timer(TimerKind::GraceEnd, true)),
        ignored("window check while waiting", waiting(), timer(TimerKind::WindowCheck, true)),
    ]);
}

impl State {
    fn with_warned(self) -> State {
        match self {
            State::Waiting { order, progress, .. } => {
                State::Waiting { attempt: warned(), order, progress }
            }
            other => other,
        }
    }
}

#[test]
fn transitions_installing_verifying_and_terminal() {
    let allow = cfg_with(|c| c.allow_test_receipts = true);
    let consumable = cfg_with(|c| c.consumable = true);
    let add_err = err(ErrorCode::AddReceiptError).with_str("platformCode", "TOO_MANY_RECEIPTS");
    let store_err =
        |status: f64| err(ErrorCode::BadApiResponse).with("httpStatus", Json::Num(status));
    let check = |code, c: &str| err(code).with_str("check", c);
    run(vec![
        case(
            "receipt stored: verify locally",
            installing(),
            Action::ReceiptInstalled { attempt_id: A.into(), added: true, warnings: vec![] },
            verifying(true, VerifyStage::Local),
            vec![
                Effect::VerifyLocally { attempt_id: A.into(), receipt: RECEIPT.into() },
                sc(StateName::Installing, StateName::Verifying),
                polite(MessageKey::VerifyingStatus),
            ],
        ),
        case(
            "F31 receipt stored after a store failed: warning",
            installing(),
            Action::ReceiptInstalled {
                attempt_id: A.into(),
                added: false,
                warnings: vec!["TOO_MANY_RECEIPTS".into()],
            },
            verifying(false, VerifyStage::Local),
            vec![
                warning(add_err),
                Effect::VerifyLocally { attempt_id: A.into(), receipt: RECEIPT.into() },
                sc(StateName::Installing, StateName::Verifying),
                polite(MessageKey::VerifyingStatus),
            ],
        ),
        ignored(
            "receipt installed while waiting",
            waiting(),
            Action::ReceiptInstalled { attempt_id: A.into(), added: true, warnings: vec![] },
        ),
        case(
            "local check passed: ask the store",
            verifying(true, VerifyStage::Local),
            local(LocalVerdict::Passed { test: false }),
            verifying(true, VerifyStage::Store { test: false }),
            vec![Effect::VerifyWithStore { attempt_id: A.into(), receipt: RECEIPT.into() }],
        ),
        with_config(
            case(
                "test receipt with allowTestReceipts",
                verifying(true, VerifyStage::Local),
                local(LocalVerdict::Passed { test: true }),
                verifying(true, VerifyStage::Store { test: true }),
                vec![Effect::VerifyWithStore { attempt_id: A.into(), receipt: RECEIPT.into() }],
            ),
            allow,
        ),
        case(
            "F21 a test receipt reported as passing without allowTestReceipts still fails",
            verifying(true, VerifyStage::Local),
            local(LocalVerdict::Passed { test: true }),
            failed(check(ErrorCode::TestReceiptNotAllowed, "type")),
            fail_fx(StateName::Verifying, check(ErrorCode::TestReceiptNotAllowed, "type"), true),
        ),
        case(
            "F21 test receipt refused by the local check; the receipt is removed",
            verifying(true, VerifyStage::Local),
            local(LocalVerdict::Failed(LocalCheck::TestReceipt)),
            failed(check(ErrorCode::TestReceiptNotAllowed, "type")),
            fail_fx(StateName::Verifying, check(ErrorCode::TestReceiptNotAllowed, "type"), true),
        ),
        case(
            "F22 product_url",
            verifying(true, VerifyStage::Local),
            local(LocalVerdict::Failed(LocalCheck::ProductUrl)),
            failed(check(ErrorCode::InvalidReceipt, "product_url")),
            fail_fx(StateName::Verifying, check(ErrorCode::InvalidReceipt, "product_url"), true),
        ),
        case(
            "F23 product_id",
            verifying(true, VerifyStage::Local),
            local(LocalVerdict::Failed(LocalCheck::ProductId)),
            failed(check(ErrorCode::InvalidReceiptProduct, "product_id")),
            fail_fx(
                StateName::Verifying,
                check(ErrorCode::InvalidReceiptProduct, "product_id"),
                true,
            ),
        ),
        case(
            "F24 verify_url; a receipt that was already present is left alone",
            verifying(false, VerifyStage::Local),
            local(LocalVerdict::Failed(LocalCheck::VerifyUrl)),
            failed(check(ErrorCode::InvalidReceipt, "verify_url")),
            fail_fx(StateName::Verifying, check(ErrorCode::InvalidReceipt, "verify_url"), false),
        ),
        case(
            "F25 signature",
            verifying(true, VerifyStage::Local),
            local(LocalVerdict::Failed(LocalCheck::Signature)),
            failed(check(ErrorCode::InvalidReceipt, "signature")),
            fail_fx(StateName::Verifying, check(ErrorCode::InvalidReceipt, "signature"), true),
        ),
        ignored(
            "a store answer before the local check (hostile order)",
            verifying(true, VerifyStage::Local),
            store(200, r#"{"status":"ok"}"#),
        ),
        ignored(
            "a second local verdict",
            verifying(true, VerifyStage::Store { test: false }),
            local(LocalVerdict::Passed { test: false }),
        ),
        case(
            "store ok: purchased",
            verifying(true, VerifyStage::Store { test: false }),
            store(200, r#"{"status":"ok"}"#),
            purchased_state(StoreVerdict::Ok),
            purchased_fx(StoreVerdict::Ok, None),
        ),
        case(
            "store pending: purchased",
            verifying(true, VerifyStage::Store { test: false }),
            store(200, r#"{"status":"pending"}"#),
            purchased_state(StoreVerdict::Pending),
            purchased_fx(StoreVerdict::Pending, None),
        ),
        case(
            "F26 store unreachable: purchased with a warning",
            verifying(true, VerifyStage::Store { test: false }),
            Action::StoreAnswer { attempt_id: A.into(), answer: HttpAnswer::NetworkError },
            purchased_state(StoreVerdict::Unreachable),
            purchased_fx(StoreVerdict::Unreachable, Some(err(ErrorCode::ApiRequestError))),
        ),
        case(
            "store timeout",
            verifying(true, VerifyStage::Store { test: false }),
            Action::StoreAnswer { attempt_id: A.into(), answer: HttpAnswer::Timeout },
            purchased_state(StoreVerdict::Unreachable),
            purchased_fx(StoreVerdict::Unreachable, Some(err(ErrorCode::ApiRequestTimeout))),
        ),
        case(
            "store 503",
            verifying(true, VerifyStage::Store { test: false }),
            store(503, ""),
            purchased_state(StoreVerdict::Unreachable),
            purchased_fx(StoreVerdict::Unreachable, Some(store_err(503.0))),
        ),
        case(
            "store answers HTML",
            verifying(true, VerifyStage::Store { test: false }),
            store(200, "<html>"),
            purchased_state(StoreVerdict::Unreachable),
            purchased_fx(StoreVerdict::Unreachable, Some(err(ErrorCode::BadJsonResponse))),
        ),
        case(
            "store answers an unknown status",
            verifying(true, VerifyStage::Store { test: false }),
            store(200, r#"{"status":"great"}"#),
            purchased_state(StoreVerdict::Unreachable),
            purchased_fx(StoreVerdict::Unreachable, Some(store_err(200.0))),
        ),
        case(
            "F27 store refunded",
            verifying(true, VerifyStage::Store { test: false }),
            store(200, r#"{"status":"refunded"}"#),
            failed(err(ErrorCode::PaymentRefunded)),
            fail_fx(StateName::Verifying, err(ErrorCode::PaymentRefunded), true),
        ),
        case(
            "store expired",
            verifying(true, VerifyStage::Store { test: false }),
            store(200, r#"{"status":"expired","receipt":"fresh"}"#),
            failed(check(ErrorCode::InvalidReceipt, "time").with_str("storeStatus", "expired")),
            fail_fx(
                StateName::Verifying,
                check(ErrorCode::InvalidReceipt, "time").with_str("storeStatus", "expired"),
                true,
            ),
        ),
        case(
            "store invalid with a reason",
            verifying(true, VerifyStage::Store { test: false }),
            store(200, r#"{"status":"invalid","reason":"NO_DIRECTED_IDENTIFIER"}"#),
            failed(
                check(ErrorCode::InvalidReceipt, "store")
                    .with_str("storeReason", "NO_DIRECTED_IDENTIFIER"),
            ),
            fail_fx(
                StateName::Verifying,
                check(ErrorCode::InvalidReceipt, "store")
                    .with_str("storeReason", "NO_DIRECTED_IDENTIFIER"),
                true,
            ),
        ),
        with_config(
            case(
                "consumable: purchased, then idle at once",
                verifying(true, VerifyStage::Store { test: false }),
                store(200, r#"{"status":"ok"}"#),
                State::Idle,
                {
                    let mut v = purchased_fx(StoreVerdict::Ok, None);
                    v.push(sc(StateName::Purchased, StateName::Idle));
                    v
                },
            ),
            consumable,
        ),
        case(
            "reset from failed",
            failed(err(ErrorCode::ApiRequestError)),
            Action::Reset,
            State::Idle,
            vec![Effect::Emit(Event::StateChange {
                state: StateName::Idle,
                previous: StateName::Failed,
                product_id: PRODUCT.into(),
                attempt_id: None,
            })],
        ),
        case(
            "reset from cancelled",
            cancelled(CancelReason::UserCancelled),
            Action::Reset,
            State::Idle,
            vec![Effect::Emit(Event::StateChange {
                state: StateName::Idle,
                previous: StateName::Cancelled,
                product_id: PRODUCT.into(),
                attempt_id: None,
            })],
        ),
        case(
            "reset from purchased",
            purchased_state(StoreVerdict::Ok),
            Action::Reset,
            State::Idle,
            vec![Effect::Emit(Event::StateChange {
                state: StateName::Idle,
                previous: StateName::Purchased,
                product_id: PRODUCT.into(),
                attempt_id: None,
            })],
        ),
        ignored("reset while busy", waiting(), Action::Reset),
        ignored("reset while idle", State::Idle, Action::Reset),
        case(
            "F37 destroy while paying: clean up, no events",
            paying(),
            Action::Destroy,
            State::Idle,
            vec![Effect::EndAttempt],
        ),
        ignored(
            "answers after a terminal state are stale",
            failed(err(ErrorCode::ApiRequestError)),
            status(200, &complete_body()),
        ),
        ignored(
            "a store answer while purchased",
            purchased_state(StoreVerdict::Ok),
            store(200, r#"{"status":"refunded"}"#),
        ),
    ]);
}

// ----- scenarios -----

/// Drives a sequence of (action, now) and returns the final state and all effects.
fn drive(config: &Config, mut state: State, steps: Vec<(Action, f64)>) -> (State, Vec<Effect>) {
    let mut all = Vec::new();
    for (a, now) in steps {
        let (next, fx) = reduce(config, state, a, now);
        state = next;
        all.extend(fx);
    }
    (state, all)
}

fn events(fx: &[Effect]) -> Vec<&Event> {
    fx.iter().filter_map(|e| if let Effect::Emit(ev) = e { Some(ev) } else { None }).collect()
}

#[test]
fn happy_path_popup_to_purchased() {
    let c = config();
    let steps = vec![
        (activate(A), T0),
        (Action::PopupOpened { blocked: false }, T0),
        (activate(B), T0 + 1.0), // double click
        (buy(201, &buy_body(&jwt(), true)), T0 + 50.0),
        (ok_msg(), T0 + 5_000.0),
        (event(r#"{"status":"pending"}"#), T0 + 5_010.0),
        (event(&complete_body()), T0 + 6_000.0),
        (
            Action::ReceiptInstalled { attempt_id: A.into(), added: true, warnings: vec![] },
            T0 + 6_010.0,
        ),
        (local(LocalVerdict::Passed { test: false }), T0 + 6_020.0),
        (store(200, r#"{"status":"ok"}"#), T0 + 6_100.0),
    ];
    let (state, fx) = drive(&c, State::Idle, steps);
    assert_eq!(state.name(), StateName::Purchased);
    let posts = fx.iter().filter(|e| matches!(e, Effect::PostBuy { .. })).count();
    assert_eq!(posts, 1, "a double click starts one purchase");
    let names: Vec<&str> = events(&fx)
        .iter()
        .filter_map(|e| {
            if let Event::StateChange { state, .. } = e {
                Some(state.as_str())
            } else {
                None
            }
        })
        .collect();
    assert_eq!(names, ["preparing", "paying", "waiting", "installing", "verifying", "purchased"]);
    let purchases: Vec<_> =
        events(&fx).into_iter().filter(|e| matches!(e, Event::Purchase(_))).collect();
    assert_eq!(purchases.len(), 1);
    assert_eq!(view(&state, &c).button, ButtonText::Key(MessageKey::Purchased));
}

#[test]
fn f06_blocked_popup_then_open_payment_window() {
    let c = config();
    let (state, fx) = drive(
        &c,
        State::Idle,
        vec![
            (activate(A), T0),
            (Action::PopupOpened { blocked: true }, T0),
            (buy(201, &buy_body(&jwt(), false)), T0 + 10.0),
            (Action::OpenPaymentWindow, T0 + 2_000.0),
            (Action::PopupOpened { blocked: true }, T0 + 2_000.0),
            (Action::OpenPaymentWindow, T0 + 3_000.0),
            (Action::PopupOpened { blocked: false }, T0 + 3_000.0),
        ],
    );
    assert_eq!(state, paying());
    assert_eq!(fx.iter().filter(|e| matches!(e, Effect::PostBuy { .. })).count(), 1);
    assert_eq!(fx.iter().filter(|e| matches!(e, Effect::OpenPopup { .. })).count(), 2);
    assert!(view(&paying_blocked(), &c).blocked_controls);
    assert!(!events(&fx).iter().any(|e| matches!(e, Event::Failed { .. })));
}

#[test]
fn f11_poll_schedule_and_timeout() {
    let c = config();
    let mut state = paying();
    let (st, _) = reduce(&c, state, ok_msg(), 0.0);
    state = st;
    let mut request_times = vec![0.0];
    let mut now = 0.0;
    let final_fx: Vec<Effect>;
    loop {
        let (st, fx) = reduce(&c, state, status(500, ""), now);
        state = st;
        let Some(Effect::Schedule { delay_ms, .. }) =
            fx.iter().find(|e| matches!(e, Effect::Schedule { timer: TimerKind::Poll, .. }))
        else {
            final_fx = fx;
            break;
        };
        now += delay_ms;
        if now >= 120_000.0 {
            let (st, fx) = reduce(&c, state, timer(TimerKind::PurchaseTimeout, true), 120_000.0);
            state = st;
            final_fx = fx;
            break;
        }
        let (st, fx) = reduce(&c, state, timer(TimerKind::Poll, true), now);
        state = st;
        assert_eq!(fx, vec![get_status()]);
        request_times.push(now);
    }
    assert_eq!(&request_times[..6], &[0.0, 250.0, 750.0, 1_750.0, 3_750.0, 5_750.0]);
    let expected = err(ErrorCode::TransactionTimeout).with(
        "lastError",
        obj(&[
            ("name", s("BadApiResponse")),
            ("code", s("BAD_API_RESPONSE")),
            ("httpStatus", Json::Num(500.0)),
        ]),
    );
    assert_eq!(state, failed(expected.clone()));
    assert!(final_fx.contains(&Effect::Emit(Event::Failed {
        product_id: PRODUCT.into(),
        attempt_id: A.into(),
        error: expected
    })));
    assert_eq!(state.failure_message_key(), Some(MessageKey::ErrTimeout));
    assert_eq!(state.failure_code(), Some(ErrorCode::TransactionTimeout));
}

/// A random walk over actions: the reducer never panics, `purchased` is entered only from the
/// store stage of `verifying`, and each attempt ends with at most one terminal event.
#[test]
fn random_walk_invariants() {
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn pick<T: Clone>(&mut self, v: &[T]) -> T {
            v[(self.next() % v.len() as u64) as usize].clone()
        }
    }
    let good = buy_body(&jwt(), true);
    let pool: Vec<Action> = vec![
        activate(A),
        activate(B),
        Action::PopupOpened { blocked: false },
        Action::PopupOpened { blocked: true },
        Action::OpenPaymentWindow,
        Action::CancelBlocked,
        buy(201, &good),
        buy_fail(HttpAnswer::NetworkError),
        buy(201, "{}"),
        mozpay(MozPayOutcome::Success),
        mozpay(MozPayOutcome::Error("USER_CANCELLED".into())),
        ok_msg(),
        msg("https://evil.example", true, "ok", None),
        msg(PAY_ORIGIN, true, "unloaded", None),
        msg(PAY_ORIGIN, true, "failed", Some("X")),
        timer(TimerKind::WindowCheck, true),
        timer(TimerKind::WindowCheck, false),
        timer(TimerKind::Poll, false),
        timer(TimerKind::GraceEnd, true),
        timer(TimerKind::PurchaseTimeout, true),
        pending(),
        status(200, &complete_body()),
        status(200, r#"{"status":"complete"}"#),
        status(500, ""),
        event(&complete_body()),
        Action::StreamError { attempt_id: A.into() },
        Action::ReceiptInstalled { attempt_id: A.into(), added: true, warnings: vec![] },
        local(LocalVerdict::Passed { test: false }),
        local(LocalVerdict::Failed(LocalCheck::Issuer)),
        store(200, r#"{"status":"ok"}"#),
        store(200, r#"{"status":"refunded"}"#),
        Action::Reset,
    ];
    let configs =
        [config(), cfg_with(|c| c.pay_path = PayPath::MozPay), cfg_with(|c| c.consumable = true)];
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    let mut purchases = 0;
    for round in 0..3_000 {
        let c = &configs[round % configs.len()];
        let mut state = State::initial(c);
        let mut terminal_events: std::collections::HashMap<String, usize> = Default::default();
        for k in 0..60 {
            let action = rng.pick(&pool);
            let before = state.clone();
            let (next, fx) = reduce(c, state, action, T0 + f64::from(k) * 1_000.0);
            for e in events(&fx) {
                match e {
                    Event::Purchase(p) => {
                        purchases += 1;
                        assert!(
                            matches!(
                                before,
                                State::Verifying { stage: VerifyStage::Store { .. }, .. }
                            ),
                            "purchase from {before:?}"
                        );
                        *terminal_events.entry(p.attempt_id.clone()).or_default() += 1;
                    }
                    Event::Failed { attempt_id, .. } | Event::Cancelled { attempt_id, .. } => {
                        *terminal_events.entry(attempt_id.clone()).or_default() += 1;
                    }
                    _ => {}
                }
            }
            if next.name() == StateName::Purchased {
                assert!(
                    matches!(before, State::Verifying { .. } | State::Purchased { .. }),
                    "{before:?}"
                );
            }
            state = next;
            // Attempt ids are reused by the pool, so reset the count when a new attempt starts.
            if matches!(state, State::Preparing { .. })
                && !matches!(before, State::Preparing { .. })
            {
                terminal_events.clear();
            }
            assert!(
                terminal_events.values().all(|n| *n <= 1),
                "two terminal events in one attempt"
            );
        }
    }
    assert!(purchases > 0, "the walk reaches purchased sometimes");
}

// ----- helpers around the reducer -----

#[test]
fn locale_negotiation() {
    let cases = [
        ("en", Some(Locale::En)),
        ("EN-gb", Some(Locale::En)),
        ("de-AT", Some(Locale::De)),
        ("fr-CA", Some(Locale::Fr)),
        ("es-419", Some(Locale::Es)),
        ("pt", Some(Locale::PtBr)),
        ("pt-PT", Some(Locale::PtBr)),
        ("pt-br", Some(Locale::PtBr)),
        ("zh-TW", Some(Locale::ZhTw)),
        ("zh-HK", Some(Locale::ZhTw)),
        ("zh-MO", Some(Locale::ZhTw)),
        ("zh-Hant", Some(Locale::ZhTw)),
        ("zh-Hant-HK", Some(Locale::ZhTw)),
        ("zh", None),
        ("zh-CN", None),
        ("zh-SG", None),
        ("zh-Hans-CN", None),
        ("ja", None),
        ("english", None),
        ("dex", None),
        ("", None),
    ];
    for (tag, expected) in cases {
        assert_eq!(match_locale(tag), expected, "{tag}");
    }
    assert_eq!(negotiate_locale(["zh-CN", "ja", "de-CH", "fr"]), Locale::De);
    assert_eq!(negotiate_locale(["zh-Hans", "ko"]), Locale::En);
    assert_eq!(negotiate_locale(std::iter::empty()), Locale::En);
    assert_eq!(Locale::PtBr.tag(), "pt-BR");
    assert_eq!(Locale::ZhTw.language(), "zh");
}

#[test]
fn strings_table() {
    assert_eq!(STRINGS.len(), 33);
    for (i, (k, texts)) in STRINGS.iter().enumerate() {
        assert_eq!(MessageKey::from_key(k.as_str()), Some(*k));
        assert!(STRINGS[..i].iter().all(|(o, _)| o != k), "duplicate {k:?}");
        for (l, t) in texts.iter().enumerate() {
            assert!(!t.is_empty(), "{k:?} {l}");
            // Every placeholder of the English text appears in each translation.
            for p in ["{name}", "{code}", "{count}"] {
                assert_eq!(texts[0].contains(p), t.contains(p), "{k:?} {l} {p}");
            }
        }
    }
    assert_eq!(MessageKey::Buy.text(Locale::ZhTw), "購買");
    assert_eq!(MessageKey::ErrorCode.text(Locale::Fr), "Code d’erreur\u{A0}: {code}");
    assert_eq!(MessageKey::PopupBlockedStatus.text(Locale::Fr), "La fenêtre de paiement a été bloquée. Sélectionnez «\u{A0}Ouvrir la fenêtre de paiement\u{A0}» pour continuer.");
    assert_eq!(MessageKey::PurchasedStatus.text(Locale::De), "Kauf abgeschlossen: {name}.");
    assert_eq!(MessageKey::ErrUnconfirmed.as_str(), "err_unconfirmed");
}

#[test]
fn message_formatting() {
    let args = MessageArgs { name: Some("Pony {code}"), code: Some("X_1"), count: Some(3) };
    assert_eq!(
        format_message(MessageKey::BuyNamed, Locale::De, args),
        "Pony {code} kaufen",
        "values are not rescanned"
    );
    assert_eq!(format_message(MessageKey::BuyNamed, Locale::ZhTw, args), "購買「Pony {code}」");
    assert_eq!(format_message(MessageKey::ErrorCode, Locale::Fr, args), "Code d’erreur\u{A0}: X_1");
    assert_eq!(
        format_message(MessageKey::RestoredStatus, Locale::En, args),
        "Purchases restored: 3."
    );
    assert_eq!(
        format_message(MessageKey::BuyNamed, Locale::En, MessageArgs::default()),
        "Buy {name}"
    );
    assert_eq!(format_count(1_234_567, Locale::En), "1,234,567");
    assert_eq!(format_count(1_234, Locale::De), "1.234");
    assert_eq!(format_count(1_234, Locale::Es), "1234");
    assert_eq!(format_count(12_345, Locale::Es), "12.345");
    assert_eq!(format_count(1_234, Locale::Fr), "1\u{202F}234");
    assert_eq!(format_count(100, Locale::PtBr), "100");
    assert_eq!(format_count(0, Locale::ZhTw), "0");
}

#[test]
fn localized_product_text() {
    let req = request(PRODUCT);
    assert_eq!(
        product_text(&req, Locale::De),
        ProductText {
            name: Some("Glänzendes Pony".into()),
            description: Some("A pony".into()),
            lang: Some("de".into())
        }
    );
    // pt-BR: no exact key, the primary subtag matches pt-PT.
    assert_eq!(product_text(&req, Locale::PtBr).lang.as_deref(), Some("pt-PT"));
    assert_eq!(product_text(&req, Locale::PtBr).name.as_deref(), Some("Pónei"));
    // No entry: top level in defaultLocale.
    assert_eq!(
        product_text(&req, Locale::Fr),
        ProductText {
            name: Some("Shiny Pony".into()),
            description: Some("A pony".into()),
            lang: Some("en".into())
        }
    );
    // Sorted key order among same-language keys; exact key case-insensitive.
    let r2 = obj(&[
        ("name", s("N")),
        (
            "locales",
            obj(&[("es-MX", obj(&[("name", s("mx"))])), ("es-AR", obj(&[("name", s("ar"))]))]),
        ),
    ]);
    assert_eq!(product_text(&r2, Locale::Es).name.as_deref(), Some("ar"));
    let r3 = obj(&[("name", s("N")), ("locales", obj(&[("ZH-tw", obj(&[("name", s("tw"))]))]))]);
    assert_eq!(product_text(&r3, Locale::ZhTw).lang.as_deref(), Some("ZH-tw"));
    assert_eq!(product_text(&Json::Null, Locale::En), ProductText::default());
}

#[test]
fn error_catalogue() {
    for c in ErrorCode::ALL {
        assert_eq!(ErrorCode::from_code(c.as_str()), Some(c));
        assert!(!c.developer_message().is_empty());
    }
    use ErrorCode as C;
    let keys = [
        (C::ApiRequestError, Some(MessageKey::ErrNetwork)),
        (C::ApiRequestTimeout, Some(MessageKey::ErrNetwork)),
        (C::BadApiResponse, Some(MessageKey::ErrServer)),
        (C::InvalidTransactionState, Some(MessageKey::ErrServer)),
        (C::BadJsonResponse, Some(MessageKey::ErrServer)),
        (C::InvalidJwtData, Some(MessageKey::ErrUnavailable)),
        (C::UnexpectedJwtType, Some(MessageKey::ErrUnavailable)),
        (C::InvalidConfiguration, None),
        (C::InvalidPayProviderUrl, None),
        (C::IncorrectUsage, None),
        (C::DialogClosedByUser, Some(MessageKey::CancelledStatus)),
        (C::UserCancelled, Some(MessageKey::CancelledStatus)),
        (C::PopupBlocked, Some(MessageKey::CancelledStatus)),
        (C::PayWindowFailMessage, Some(MessageKey::ErrPayment)),
        (C::UnknownMessageStatus, Some(MessageKey::ErrUnconfirmed)),
        (C::UnknownMessageOrigin, None),
        (C::PayPlatformError, Some(MessageKey::ErrPayment)),
        (C::PayPlatformUnavailable, Some(MessageKey::ErrUnavailable)),
        (C::TransactionTimeout, Some(MessageKey::ErrTimeout)),
        (C::PaymentRefunded, Some(MessageKey::ErrRefunded)),
        (C::PaymentReversed, Some(MessageKey::ErrRefunded)),
        (C::ReceiptUnavailable, Some(MessageKey::ErrUnconfirmed)),
        (C::PaymentFailed, Some(MessageKey::ErrUnconfirmed)),
        (C::InvalidReceipt, Some(MessageKey::ErrReceipt)),
        (C::InvalidReceiptProduct, Some(MessageKey::ErrReceipt)),
        (C::TestReceiptNotAllowed, Some(MessageKey::ErrReceipt)),
        (C::AddReceiptError, None),
    ];
    assert_eq!(keys.len(), ErrorCode::ALL.len());
    for (c, k) in keys {
        assert_eq!(c.message_key(), k, "{c:?}");
    }
    assert_eq!(C::TransactionTimeout.name().as_str(), "PurchaseTimeout");
    assert_eq!(C::DialogClosedByUser.name().as_str(), "PayWindowClosedByUser");
    assert_eq!(C::InvalidTransactionState.name(), ErrorName::BadApiResponse);
    let e = err(C::PayWindowFailMessage).with_str("providerCode", "X");
    assert_eq!(e.detail_json().to_json_text(), r#"{"providerCode":"X"}"#);
    assert_eq!(e.name().as_str(), "FailedWindowMessage");
    assert_eq!(CancelReason::PopupBlocked.as_str(), "POPUP_BLOCKED");
}

#[test]
fn pay_url_templates() {
    let p = PayProviders::with_default(
        "https://market.example/",
        [("x/pay/v1", "https://other.example/pay?jwt={jwt}&x=1")],
        &URLS,
    )
    .unwrap();
    assert_eq!(
        p.pay_url(PAY_TYP, "a.b-c_d").unwrap(),
        (
            "https://market.example/mozpay/?req=a.b-c_d".to_owned(),
            "https://market.example".to_owned()
        )
    );
    assert_eq!(p.pay_url("x/pay/v1", "a b").unwrap().0, "https://other.example/pay?jwt=a%20b&x=1");
    assert_eq!(p.pay_url("nope", "x"), None);
    // Later entries replace earlier ones (extraProviderUrls over payProviderUrls).
    let p = PayProviders::new(
        [(PAY_TYP, "https://a.example/{jwt}"), (PAY_TYP, "https://b.example/{jwt}")],
        &URLS,
    )
    .unwrap();
    assert_eq!(p.get(PAY_TYP).unwrap().origin, "https://b.example");
    for ok in [
        "https://p.example/?req={jwt}",
        "http://localhost:7802/?req={jwt}",
        "http://127.0.0.1:7802/mozpay/?req={jwt}",
        "http://[::1]/{jwt}",
    ] {
        assert!(validate_pay_url_template(ok, &URLS).is_ok(), "{ok}");
    }
    for bad in [
        "https://p.example/?req=",
        "https://p.example/?a={jwt}&b={jwt}",
        "/mozpay/?req={jwt}",
        "http://p.example/?req={jwt}",
        "javascript:{jwt}",
        "https://{jwt}.p.example/",
        "https://p.example:{jwt}/",
        "ftp://p.example/{jwt}",
    ] {
        let e = validate_pay_url_template(bad, &URLS).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidPayProviderUrl, "{bad}");
        assert_eq!(e.name(), ErrorName::ConfigurationError);
    }
    assert_eq!(encode_uri_component("a-_.!~*'()Z9 /?&=é"), "a-_.!~*'()Z9%20%2F%3F%26%3D%C3%A9");
    assert_eq!(buy_url(DEFAULT_BUY_URL, "shiny pony/1"), "/mozpay/product/shiny%20pony%2F1/buy");
}

#[test]
fn timing_and_configuration() {
    let t = Timing::default();
    assert_eq!(t.validate(), Ok(()));
    assert_eq!(
        (
            t.poll_initial_ms,
            t.poll_max_ms,
            t.poll_factor,
            t.poll_jitter,
            t.purchase_timeout_ms,
            t.closed_grace_ms,
            t.window_poll_ms,
            t.unloaded_grace_ms,
            t.api_timeout_ms
        ),
        (250.0, 2_000.0, 2.0, 0.1, 120_000.0, 3_000.0, 500.0, 300.0, 10_000.0)
    );
    let mut d = 250.0;
    let mut waits = Vec::new();
    for _ in 0..6 {
        waits.push(t.jittered(d, 0.5));
        d = t.next_delay(d);
    }
    assert_eq!(waits, [250.0, 500.0, 1_000.0, 2_000.0, 2_000.0, 2_000.0]);
    assert_eq!(t.jittered(1000.0, 0.0), 900.0);
    assert_eq!(t.jittered(1000.0, 1.0), 1100.0);
    assert_eq!(t.jittered(1000.0, f64::NAN), 1000.0);
    assert_eq!(t.jittered(1000.0, 7.0), 1100.0);
    for bad in [
        Timing { poll_initial_ms: 0.0, ..t },
        Timing { purchase_timeout_ms: f64::INFINITY, ..t },
        Timing { closed_grace_ms: -1.0, ..t },
        Timing { poll_max_ms: 100.0, ..t },
        Timing { poll_factor: 0.5, ..t },
        Timing { poll_jitter: 1.0, ..t },
        Timing { poll_jitter: f64::NAN, ..t },
        Timing { api_timeout_ms: f64::NAN, ..t },
    ] {
        assert_eq!(bad.validate().unwrap_err().code, ErrorCode::InvalidConfiguration, "{bad:?}");
    }
    assert!(validate_product_id(&"p".repeat(255)).is_ok());
    assert!(validate_product_id("").is_err());
    assert!(validate_product_id(&"é".repeat(256)).is_err());
    assert!(config().validate().is_ok());
    assert_eq!(choose_pay_path(true, true, true), PayPath::MozPay);
    assert_eq!(choose_pay_path(false, true, true), PayPath::Popup);
    assert_eq!(choose_pay_path(true, false, false), PayPath::Unavailable);
    assert!(default_on_broken_webrt(
        true,
        "Mozilla/5.0 (X11; Linux x86_64; rv:45.0) Gecko/20100101 Firefox/45.0"
    ));
    assert!(!default_on_broken_webrt(
        true,
        "Mozilla/5.0 (Mobile; rv:45.0) Gecko/45.0 Firefox/45.0"
    ));
    assert!(!default_on_broken_webrt(false, "x"));
    assert_eq!(
        popup_features(100.0, 50.0, 1201.0, 800.0, 400.0, 560.0),
        "popup=yes,width=400,height=560,left=501,top=170,resizable=yes,scrollbars=yes,location=yes,toolbar=no,menubar=no,status=no"
    );
    assert_eq!(State::initial(&cfg_with(|c| c.owned = true)), State::Purchased { purchase: None });
    assert_eq!(State::initial(&config()), State::Idle);
    assert_eq!(
        (POPUP_NAME, DEFAULT_LOCAL_STORAGE_KEY, FXPAY_STORAGE_KEY),
        ("MozmarketPay", "mozmarketReceipts", "fxpayReceipts")
    );
}

#[test]
fn views() {
    let c = cfg_with(|c| c.product_name = Some("Pony".into()));
    let v = view(&State::Idle, &c);
    assert_eq!(
        (v.button, v.aria_disabled, v.busy),
        (ButtonText::Key(MessageKey::BuyNamed), false, false)
    );
    assert_eq!(v.product_name.as_deref(), Some("Pony"));
    assert_eq!(view(&State::Idle, &config()).button, ButtonText::Key(MessageKey::Buy));
    let labelled = cfg_with(|c| c.label = Some("Get it".into()));
    assert_eq!(
        view(&cancelled(CancelReason::UserCancelled), &labelled).button,
        ButtonText::Label("Get it".into())
    );
    for (st, key) in [
        (preparing(PopupStatus::Open, false), MessageKey::Preparing),
        (paying(), MessageKey::Paying),
        (waiting(), MessageKey::Waiting),
        (installing(), MessageKey::Finishing),
        (verifying(true, VerifyStage::Local), MessageKey::Finishing),
    ] {
        let v = view(&st, &c);
        assert_eq!(
            (v.button, v.aria_disabled, v.busy),
            (ButtonText::Key(key), true, true),
            "{st:?}"
        );
    }
    // Once the JWT is known its localized name is used.
    assert_eq!(view(&paying(), &c).product_name.as_deref(), Some("Shiny Pony"));
    let v = view(&failed(err(ErrorCode::ApiRequestError)), &c);
    assert_eq!(
        (v.button, v.aria_disabled, v.busy),
        (ButtonText::Key(MessageKey::Retry), false, false)
    );
    let test_purchase = State::Purchased { purchase: Some(purchase(true, StoreVerdict::Ok)) };
    let v = view(&test_purchase, &c);
    assert!(v.test_badge && v.aria_disabled && !v.busy);
    assert!(!view(&purchased_state(StoreVerdict::Ok), &c).test_badge);
}

#[test]
fn answer_classification() {
    assert_eq!(
        classify_status(&HttpAnswer::response(
            200,
            r#"{"status":"pending","status":"complete","receipt":"r"}"#
        )),
        StatusClass::Complete(CompleteStatus {
            receipt: "r".into(),
            product_id: None,
            transaction_id: None
        }),
        "duplicate members: the last wins, as JSON.parse"
    );
    assert!(
        matches!(classify_status(&HttpAnswer::response(204, "")), StatusClass::Fatal(e) if e.code == ErrorCode::BadJsonResponse)
    );
    assert!(
        matches!(classify_status(&HttpAnswer::response(302, "")), StatusClass::Fatal(e) if e.code == ErrorCode::BadApiResponse)
    );
    assert!(
        matches!(classify_status(&HttpAnswer::response(200, &"[".repeat(100_000))), StatusClass::Fatal(e) if e.code == ErrorCode::BadJsonResponse)
    );
    assert!(matches!(
        classify_status(&HttpAnswer::Response {
            status: 429,
            body: String::new(),
            retry_after_secs: Some(f64::NAN)
        }),
        StatusClass::Transient { min_wait_ms: None, .. }
    ));
    assert!(matches!(
        classify_store_answer(&HttpAnswer::response(201, r#"{"status":"ok"}"#)),
        StoreClass::Purchased { verdict: StoreVerdict::Unreachable, .. }
    ));
    assert_eq!(provider_code(Some("TRANS_FAILED")), "TRANS_FAILED");
    assert_eq!(provider_code(Some(&"A".repeat(64))), "A".repeat(64));
    assert_eq!(provider_code(Some(&"A".repeat(65))), MISSING_ERROR_CODE);
    assert_eq!(provider_code(Some("")), MISSING_ERROR_CODE);
    assert_eq!(provider_code(Some("lower")), MISSING_ERROR_CODE);
    assert_eq!(provider_code(None), MISSING_ERROR_CODE);
    // Long server strings are clipped.
    let long = "E".repeat(1000);
    let StatusClass::Fatal(e) = classify_status(&HttpAnswer::response(
        200,
        &format!(r#"{{"status":"failed","error":"{long}"}}"#),
    )) else {
        panic!()
    };
    assert_eq!(e.detail("serverError").and_then(Json::as_str).map(str::len), Some(259));
}

#[test]
fn restore_helpers() {
    let body = obj(&[(
        "receipts",
        Json::Arr(vec![
            obj(&[
                ("productId", s("a")),
                ("orderId", s("o1")),
                ("transactionID", s("t1")),
                ("receipt", s("r1")),
            ]),
            obj(&[("productId", s("b"))]),
            s("junk"),
        ]),
    )])
    .to_json_text();
    let list = classify_restore_list(&HttpAnswer::response(200, &body)).unwrap();
    assert_eq!(
        list.entries,
        vec![RestoreEntry {
            product_id: "a".into(),
            order_id: Some("o1".into()),
            transaction_id: Some("t1".into()),
            receipt: "r1".into()
        }]
    );
    assert_eq!((list.truncated, list.malformed), (false, 2));
    let many = obj(&[(
        "receipts",
        Json::Arr(
            (0..150)
                .map(|i| obj(&[("productId", s(&i.to_string())), ("receipt", s("r"))]))
                .collect(),
        ),
    )])
    .to_json_text();
    let list = classify_restore_list(&HttpAnswer::response(200, &many)).unwrap();
    assert_eq!((list.entries.len(), list.truncated), (MAX_RESTORE_ENTRIES, true));
    assert_eq!(
        classify_restore_list(&HttpAnswer::response(200, r#"{"receipts":[]}"#)).unwrap(),
        RestoreList::default()
    );
    // Every failure is fatal, 5xx included.
    assert_eq!(
        classify_restore_list(&HttpAnswer::NetworkError).unwrap_err().code,
        ErrorCode::ApiRequestError
    );
    assert_eq!(
        classify_restore_list(&HttpAnswer::Timeout).unwrap_err().code,
        ErrorCode::ApiRequestTimeout
    );
    assert_eq!(
        classify_restore_list(&HttpAnswer::response(503, "")).unwrap_err().code,
        ErrorCode::BadApiResponse
    );
    assert_eq!(
        classify_restore_list(&HttpAnswer::response(200, "<html>")).unwrap_err().code,
        ErrorCode::BadJsonResponse
    );
    assert_eq!(
        classify_restore_list(&HttpAnswer::response(200, "{}")).unwrap_err(),
        err(ErrorCode::BadApiResponse).with_str("missing", "receipts")
    );

    let ok = LocalVerdict::Passed { test: false };
    let answer = |b: &str| HttpAnswer::response(200, b);
    assert_eq!(
        restore_outcome(ok, false, &answer(r#"{"status":"ok"}"#), false),
        RestoreOutcome::Restored { store: StoreVerdict::Ok, warning: None }
    );
    assert_eq!(
        restore_outcome(ok, false, &answer(r#"{"status":"pending"}"#), false),
        RestoreOutcome::Restored { store: StoreVerdict::Pending, warning: None }
    );
    assert_eq!(
        restore_outcome(ok, false, &HttpAnswer::NetworkError, false),
        RestoreOutcome::Restored {
            store: StoreVerdict::Unreachable,
            warning: Some(err(ErrorCode::ApiRequestError))
        }
    );
    assert_eq!(
        restore_outcome(ok, false, &answer(r#"{"status":"refunded"}"#), false),
        RestoreOutcome::Skipped(ErrorCode::PaymentRefunded)
    );
    assert_eq!(
        restore_outcome(ok, false, &answer(r#"{"status":"invalid","reason":"X"}"#), false),
        RestoreOutcome::Skipped(ErrorCode::InvalidReceipt)
    );
    assert_eq!(
        restore_outcome(ok, false, &answer(r#"{"status":"expired","receipt":"fresh"}"#), false),
        RestoreOutcome::Replace { receipt: "fresh".into() }
    );
    assert_eq!(
        restore_outcome(ok, false, &answer(r#"{"status":"expired","receipt":"fresh"}"#), true),
        RestoreOutcome::Skipped(ErrorCode::InvalidReceipt),
        "replaced at most once"
    );
    assert_eq!(
        restore_outcome(ok, false, &answer(r#"{"status":"expired"}"#), false),
        RestoreOutcome::Skipped(ErrorCode::InvalidReceipt)
    );
    assert_eq!(
        restore_outcome(
            LocalVerdict::Failed(LocalCheck::ProductId),
            false,
            &answer(r#"{"status":"ok"}"#),
            false
        ),
        RestoreOutcome::Skipped(ErrorCode::InvalidReceiptProduct)
    );
    assert_eq!(
        restore_outcome(
            LocalVerdict::Passed { test: true },
            false,
            &answer(r#"{"status":"ok"}"#),
            false
        ),
        RestoreOutcome::Skipped(ErrorCode::TestReceiptNotAllowed)
    );
    assert_eq!(
        restore_outcome(
            LocalVerdict::Passed { test: true },
            true,
            &answer(r#"{"status":"ok"}"#),
            false
        ),
        RestoreOutcome::Restored { store: StoreVerdict::Ok, warning: None }
    );
}
