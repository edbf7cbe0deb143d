"""
=====================================================
Tuning an autoencoder step with GridSearchCV, and PCA
=====================================================

An autoencoder is one more transformer in a ``Pipeline``: the same grid
search tunes its ``n_components`` as PCA's, and the two can be compared on
the classifier's cross-validated accuracy.
"""

import pandas as pd
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer

X, y = load_digits(return_X_y=True)
X, y = X[:900], y[:900]

pipe = Pipeline(
    [
        ("scale", StandardScaler()),
        ("reduce", AutoencoderTransformer(random_state=0, max_iter=100)),
        ("classify", LogisticRegression(max_iter=2000)),
    ]
)
grid = {
    "reduce": [AutoencoderTransformer(random_state=0, max_iter=100), PCA()],
    "reduce__n_components": [4, 8, 16],
}
search = GridSearchCV(pipe, grid, cv=3).fit(X, y)

results = pd.DataFrame(search.cv_results_)
results["reducer"] = results["param_reduce"].map(lambda r: type(r).__name__)
print(
    results.pivot_table(
        index="param_reduce__n_components", columns="reducer", values="mean_test_score"
    ).round(3)
)
print("best:", search.best_params_)
