"""The what-if course planner's parts: cadences, the clinic calendar and chair utilisation.

``kdash.planner.plan`` is the public entry; these modules keep one job each (parsing a cadence, finding a free
chair, adding up chair-hours) so each can be read and tested on its own.
"""
