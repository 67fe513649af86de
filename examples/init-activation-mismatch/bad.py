"""A tanh network for a small regression task, initialized with He (meant for ReLU).

GL202 reports both hidden layers. With two hidden layers the signal-propagation prediction (and the
probe) still sees a healthy gradient at initialization (the first layer gets ~0.2 of the last hidden
layer's gradient), so the findings are information; the doubled variance starts the tanh units
closer to saturation, which deeper stacks and training make worse.

Try: gradient-lens check examples/init-activation-mismatch/bad.py
"""
import numpy as np
from tensorflow import keras
from tensorflow.keras import layers

x = np.random.uniform(-3, 3, size=(4096, 8)).astype("float32")
y = np.sin(x).sum(axis=1, keepdims=True)

model = keras.Sequential([
    layers.Input(shape=(8,)),
    layers.Dense(256, activation="tanh", kernel_initializer="he_normal"),
    layers.Dense(256, activation="tanh", kernel_initializer="he_normal"),
    layers.Dense(1),
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mse")
model.fit(x, y, epochs=20, batch_size=64, validation_split=0.1)
