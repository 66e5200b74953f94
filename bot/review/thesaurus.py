"""The words registers use for one idea, so that reworded risks can be matched.

One line per idea: ``idea: word, word, phrase``, or ``idea > broader: ...`` where the idea is also
a case of a broader one (heavy rain is weather; so is a heatwave, but rain is not heat). A word
meets its inflections ("delays", "delayed") and, by its stem, its derivations ("postponement" for
"postpone"), except a name for someone by what they do ("designer", "consultant"), which would take
in "design" and "consultation". Phrases are matched as written, after US spellings are folded to UK
ones. An idea named here as a word is matched too.
"""

from __future__ import annotations

IDEAS = """
delay: delay, slip, slippage, late, lateness, postpone, postponement, behind, overrun, held up, holds up,
  hold up, push back, pushed back, pushing back, moves right, knock on, knock-on, later than, stall, slow,
  reschedule, defer, deferral, in time, on time, miss the deadline, not ready, slide
disrupt: disrupt, disruption, interrupt, interruption, cancel, cancellation, called off, no-show
staff: staff, people, personnel, engineer, employee, worker, workforce, specialist, expert, talent, developer,
  colleague, technician, team member, operative, picker, crew, labour, resource, resourcing, designer,
  headcount, manpower, fte, nurse, clinician, steward, driver, trainer, teacher, officer, call handler,
  handler
leave: leave, loss, lose, lost, depart, departure, attrition, turnover, resign, resignation, quit, poach,
  exit, retention, retain, vacancy, vacancies, recruit, recruitment, hire, hiring, staff turnover
absence: absence, absent, sickness, sick leave, off sick, strike, industrial action, walkout
train: train, training, skill, competence, upskill, up to speed, familiar, induction, learn, knowledge
shortage: shortage, scarce, scarcity, lack, lacking, insufficient, not enough, short of, shortfall,
  unavailable, unavailability, fewer, under-resource, understaffed, short-staffed, thin
cost: cost, budget, spend, overspend, price, money, expensive, funding, fund, afford, inflation, fee, capital,
  financial, cash, expenditure, estimate, quote, grant, dearer, pricier
cut: cut, reduce, reduction, shrink, lower, decrease, trim, squeeze
income: income, revenue, ticket sales, profit, margin
payment: payment, pay for, till, tills, card reader, card machine, card payment, contactless, point of sale,
  checkout, sale, sales, transaction, invoice, invoicing
supplier: supplier, vendor, contractor, subcontractor, provider, manufacturer, third party, third-party,
  consultant, consultancy, fabricator, factory, installer, integrator, haulier, outsourcer
insolvency: insolvency, insolvent, administration, bankrupt, bankruptcy, liquidation, go bust, goes bust,
  collapse, cease trading, ceases trading, financial failure, receivership
queue: queue, queuing, backlog, waiting list, bottleneck, tailback, backs up, backed up, build up
overload: overload, overloaded, congestion, congested, saturate, saturation, oversubscribed, overwhelm,
  overstretched, capacity, overcrowd, overcrowding, crush, surge, spike
peak: peak, busiest, busy, rush, full, maximum, crowd peak, crowd peaks
equipment: equipment, kit, machinery, hardware, device, scanner, handheld, sorter, sortation, conveyor,
  automation, machine, plant, instrument, terminal, tool, robot, server, heat pump, heat pumps
deliver: deliver, delivery, supply, ship, shipment, shipping, arrive, arrival, lead time, transport,
  logistics, freight, courier, import, customs
travel: travel, flight, fly, journey, airport, airline, commute, transit
despatch: despatch, dispatch, collection, cut-off, cut-offs, order fulfilment
install: install, installation, commissioning, commission, fit-out, fit out, set up, erect, erection,
  construct, construction, build
golive: go-live, go live, golive, cutover, cut-over, cut over, launch, opening day, opening night,
  opening date, official opening, grand opening, handover, rollout, roll-out,
  switch-over, switchover, deploy, deployment, release, implementation
approval: approval, approve, sign off, sign-off, consent, permission, permit, authorise, authorisation,
  planning, licence, decision, decide, endorse, endorsement
legal: legal, judicial, court, lawsuit, litigation, challenge, claim, dispute, tribunal, judicial review,
  grievance
rule: regulator, regulation, regulatory, compliance, comply, legislation, law, statutory, inspector,
  inspection, audit, breach of, non-compliance, non-compliant, ombudsman
penalty: penalty, fine, sanction, liquidated damages, damages, compensation
oppose: oppose, opposition, object, objection, resist, resistance, reject, complain, complaint, protest,
  backlash, unhappy, dissatisfied, dissatisfaction, refuse, refusal
adoption: adoption, adopt, uptake, take-up, usage, engagement, buy-in, use the new
move: move, moving, relocate, relocation, transfer, migrate, migration, decant, carried across,
  carry across, carried over, carry over
trader: trader, stallholder, retailer, shopkeeper, tenant, occupier, concession, concessions, vendor stall,
  bar, bars, kiosk, food stall, catering outlet
user: user, customer, resident, patient, student, passenger, visitor, public, citizen, community, audience,
  attendee, spectator, fan, guest, client, member of the public, ticket holder, pupil, householder,
  household, occupant
weather: weather, adverse, extreme weather, climate
rain > weather: rain, rainfall, wet, flood, flooding, waterlog, downpour, deluge, storm water
wind > weather: wind, gust, gale, storm
heat > weather: heat, heatwave, hot, temperature, sun, sunstroke
cold > weather: snow, freeze, frost, ice, icy, cold, winter
lightning > weather: lightning, thunderstorm, thunder
underground: buried, underground, beneath, below ground, subsurface
utility: utility, utilities, utility services, existing services, statutory services, services diversion,
  service diversions, statutory undertaker, apparatus, cable, pipe, mains, duct
underground > utility: buried services, underground services
power: power, electricity, electrical, power supply, generator, grid, energy, voltage, blackout
network: network, connectivity, connection, connect, signal, coverage, 4g, 5g, mobile data, mobile network,
  wifi, wi-fi, broadband, internet, bandwidth, online, offline, telecoms
record: record, records, unrecorded, drawings, as-built, documentation
redesign: redesign, design change, design changes, re-design, rework
error: error, mistake, mis-pick, mispick, wrong, incorrect, inaccurate, defect, fault, quality, bug,
  flaw, poor workmanship
data: data, dataset, database, information, records management
privacy: privacy, gdpr, personal data, data protection, confidential, confidentiality, disclosure
test: test, testing, uat, acceptance, trial, pilot, validation, validate, verification
scope: scope, requirement, change request, scope creep, specification, spec
unclear: unclear, ambiguous, ambiguity, undefined, not defined, poorly defined, uncertain, uncertainty,
  unknown, unconfirmed, not agreed
security: security, cyber, breach, hack, attack, phishing, theft, steal, stolen, vandalism, sabotage,
  intrusion, unauthorised, ransomware, malware, virus, terrorist, terrorism, hostile, intruder
fail: fail, failure, break, breakdown, outage, crash, malfunction, stop, halt, downtime, go down, goes down,
  stop working, stops working, unable, prevent, inoperable, not work, not working
safety: safety, injury, injure, accident, harm, hazard, trip, crush injuries, fatality, death, casualty,
  hurt, wound, unsafe
health: illness, ill, sick, disease, infection, outbreak, pandemic, covid, medical, ambulance, welfare,
  first aid, clinical
fire: fire, blaze, smoke, flammable, ignite, ignition, combustible, explosion
hazardous: asbestos, hazardous, toxic, chemical, radon
freeze: change freeze, design freeze, code freeze, peak freeze, season freeze, peak season freeze,
  christmas freeze, trading freeze
hours: shift, working day, working days, working hours, working pattern, shift pattern, rota, roster,
  overtime
longer: longer, lengthen, extend, prolong
close: closure, closing, shut, close down, closes down, closed down, shut down
assess: assess, assessment, review, appraisal, evaluation, evaluate
overcharge: overcharge, billed twice, charged twice, double charge, double charges, double charging,
  double billing, double-charged, double-billed
size: size, dimension, measurement, footprint
partial: incomplete, partial, partially, not fully, not complete, incompletely
hvac: hvac, air conditioning, air-conditioning, climate control, cooling, chiller, ventilation
separate: segregate, segregation, separate, separation, fence off, fenced off, fencing, hoarding, cordon,
  barrier, exclusion zone
biometric: biometric, biometrics, face recognition, facial recognition, fingerprint
expiry: expire, expiry, lapse, renew, renewal
noise: noise, vibration, dust, nuisance, odour
ecology: environmental, pollution, spill, emission, emissions, ecology, ecological,
  wildlife, habitat, species, bat, bats, newt, newts, nesting birds
heritage: heritage, listed building, archaeology, archaeological, historic
schedule: programme, schedule, timeline, timetable, milestone, completion, finish, deadline, target date,
  slot, critical path
site: site, premises, building, location, venue, depot, warehouse, facility, campus, office, arena
ground: ground, soil, geotechnical, contamination, contaminated, subsidence, groundwater
vehicle: vehicle, car, van, lorry, truck, hgv, bus, fleet, traffic
road: road, a-road, main road, highway, motorway, street, junction, carriageway, lane closure
park: park, parking, car park, car parks, parking field, parking fields
access: access, entry, entrance, gate, admission, turnstile
ticket: ticket, e-ticket, wristband, accreditation
contract: contract, agreement, procurement, tender, bid, framework, purchase order, terms and conditions
private: private, commercial, industry, competitor, private sector, better-paid, better paid,
  consultants and contractors
pay: pay, paid, salary, salaries, wage, remuneration
start: start, begin, commence, mobilise, mobilisation, kick off, kick-off
stakeholder: stakeholder, sponsor, board, executive, leadership, senior management, steering group,
  governance, trustees
reputation: reputation, reputational, public image, media, press, publicity, brand, social media
integration: integration, interface, integrate, compatibility, compatible, api, interoperability,
  interoperable, feed, data feed
manual: manual, manually, rekey, re-key, rekeying, re-keying, keyed manually, double keying, re-enter,
  workaround, manual entry, by hand
software: software, system, application, app, platform, module, solution, wms, erp, crm
legacy: legacy, obsolete, outdated, end of life, end-of-life, unsupported, ageing, aging, old
material: material, materials, component, part, parts, stock, inventory, spare, spares, steel, concrete,
  timber, raw material
politics: political, politics, election, government, minister, ministerial, policy change
water: water, plumbing, drainage, drain, sewer, leak, leakage
benefit: benefit, value, savings, business case, return on investment, roi
communication: communication, communicate, inform, message, messaging, comms, briefing, notify,
  notification, reporting channel, reporting channels
"""


def parse(text: str = IDEAS) -> list[tuple[str, str | None, list[str]]]:
    """(idea, broader idea or None, words and phrases) for each idea."""
    ideas: list[tuple[str, str | None, list[str]]] = []
    for line in " ".join(text.split("\n  ")).strip().splitlines():
        head, _, terms = line.partition(":")
        name, _, broader = (part.strip() for part in head.partition(">"))
        ideas.append((name, broader or None, [t.strip() for t in terms.split(",") if t.strip()]))
    return ideas
