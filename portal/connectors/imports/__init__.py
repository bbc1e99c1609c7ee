"""The import, whatever the vendor (issue 16, issue 17 acceptance 4): the rows a connector's
wire code produces (``rows``), how a vendor plugs in (``source``), the writes (``writes``,
``places``, ``residents``) and the recorded runs with Sync Now and the review (``runs``).
AMSI (``connectors.amsi``) and MRI (``connectors.mri``) add only their wire format and rules."""
